"""`machi demo` seeds synthetic residents through the migration import."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from machi.contact.models import FaqAnswer
from machi.registry.models import FilingKind, Resident, ResidentHistory, Status
from machi.registry.selectors import resident_search
from machi.registry.synthetic import generate_rows
from machi.tenancy.context import tenant_context
from machi.web.demo import demo_residents_seed

pytestmark = pytest.mark.django_db(databases="__all__")

SEED = 33  # 200 rows of 131016 with this seed include 髙橋, 転出, 死亡 and foreign residents


def test_seed_writes_searchable_residents():
    rows = list(generate_rows(count=200, lg_code="131016", seed=SEED))
    result = demo_residents_seed(lg_code="131016", count=200, seed=SEED)
    assert (result.created, result.rejected) == (200, 0)
    with tenant_context("131016"):
        assert Resident.objects.count() == result.created
        statuses = dict(
            (s, Resident.objects.filter(status=s).count())
            for s in (Status.RESIDENT, Status.MOVED_OUT, Status.DECEASED, Status.REMOVED)
        )
        for status, n in statuses.items():
            assert n == sum(r["住民状態"] == status for r in rows)
        assert statuses[Status.MOVED_OUT] and statuses[Status.DECEASED]
        assert not ResidentHistory.objects.exclude(filing_kind=FilingKind.MIGRATION).exists()

        # every household came in with its 世帯主 and shares the address
        resident = Resident.objects.get(name=rows[0]["氏名"], birth_date_approx__isnull=False)
        assert resident.relationship == "世帯主"
        assert resident.machiaza == rows[0]["住所_町字"]
        assert resident.postal_code == rows[0]["郵便番号"]

        # a variant spelling is found by the standard one (and ranked after exact matches)
        variant = next(r for r in rows if r["氏名"].startswith("髙橋"))
        hits = resident_search(query="高橋").hits
        assert variant["氏名"] in {h.resident.name for h in hits}
        assert {h.match for h in hits if h.resident.name.startswith("髙橋")} == {"variant"}

        # kana search and foreign residents by the alphabet name
        found = resident_search(query=variant["氏名_フリガナ"]).hits
        assert variant["氏名"] in {h.resident.name for h in found}
        foreign = next(r for r in rows if r["住民種別"] == "2")
        found = resident_search(query=foreign["氏名_英字"]).hits
        assert foreign["氏名"] in {h.resident.name for h in found}


def test_seed_is_idempotent():
    first = demo_residents_seed(lg_code="271403", count=60, seed=1)
    assert first.created > 0
    again = demo_residents_seed(lg_code="271403", count=60, seed=2)
    assert (again.created, again.rejected) == (0, 0)
    with tenant_context("271403"):
        assert Resident.objects.count() == first.created
    with tenant_context("131016"):
        assert not Resident.objects.exists()


def test_zero_residents_writes_nothing():
    assert demo_residents_seed(lg_code="131016", count=0).created == 0
    with tenant_context("131016"):
        assert not Resident.objects.exists()


def test_demo_command_seeds_each_municipality_once():
    out = io.StringIO()
    call_command("demo", "--residents", "30", stdout=out)
    text = out.getvalue()
    assert "131016 千代田区: 住民" in text and "271403 堺市: 住民" in text
    counts = {}
    for lg_code in ("131016", "271403"):
        with tenant_context(lg_code):
            counts[lg_code] = Resident.objects.count()
    assert all(25 <= n <= 30 for n in counts.values())

    out = io.StringIO()
    call_command("demo", "--residents", "30", stdout=out)
    assert "住民登録済みのため追加しません" in out.getvalue()
    quiet = io.StringIO()
    call_command("demo", "--quiet", stdout=quiet)
    assert quiet.getvalue() == ""
    for lg_code, n in counts.items():
        with tenant_context(lg_code):
            assert Resident.objects.count() == n
            # the contact center and the public FAQ start with the default answers, once
            assert 30 <= FaqAnswer.objects.filter(status="published").count() < 100


def test_insurance_flags_fit_the_age():
    import datetime

    from machi.japanese import age
    from machi.registry.synthetic import REFERENCE_DATE

    demo_residents_seed(lg_code="131016", count=300, seed=SEED)
    with tenant_context("131016"):
        residents = list(Resident.objects.exclude(birth_date_approx=None))
    assert any(r.kouki for r in residents) and any(r.kokuho for r in residents)
    for r in residents:
        years = (
            age(r.birth_date_approx, REFERENCE_DATE) if r.birth_date_approx <= REFERENCE_DATE else 0
        )
        assert r.kouki == (years >= 75), (r.birth_date_approx, years)
        assert r.kaigo == (years >= 65)
        if 65 <= years < 75:
            assert r.kokuho
        assert r.pension_category in ("", "1")
        assert isinstance(r.birth_date_approx, datetime.date)
