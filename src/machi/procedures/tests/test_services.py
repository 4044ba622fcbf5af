"""Catalogue versions in the tenant database: upload, validation, audit, isolation."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from machi.audit.models import AuditEntry
from machi.procedures import selectors, services
from machi.procedures.models import CatalogueVersion
from machi.procedures.tests.helpers import P, S, fired
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

RAISE_KAIGO_AGE = """
procedures:
  - code: kaigo.enroll
    condition: legal_age(person.birth_date, D) >= 70
"""
SCENARIO = S("move_in", ["o"], [P("o", "1958-01-01")])  # legal age 68


@pytest.fixture
def admin_a(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "municipality_admin"))


def test_upload_saves_a_new_active_version_and_audits(admin_a):
    with tenant_context("131016"):
        first = services.catalogue_upload(text=RAISE_KAIGO_AGE, actor=admin_a, comment="70歳に")
        second = services.catalogue_upload(text="", actor=admin_a, comment="既定に戻す")
        assert (first.version, second.version) == (1, 2)
        first.refresh_from_db()
        assert not first.active and second.active
        assert first.uploaded_by_username == admin_a.username
        assert first.uploaded_by_id == admin_a.pk
        entries = AuditEntry.objects.filter(action="catalogue.uploaded").order_by("seq")
        assert [(e.object_id, e.detail["version"]) for e in entries] == [("1", 1), ("2", 2)]
        assert entries[0].actor_username == admin_a.username


def test_effective_catalogue_follows_the_active_version(admin_a):
    with tenant_context("131016"):
        assert selectors.catalogue_effective().version is None
        assert fired(selectors.navigator_run(data=SCENARIO), "kaigo.enroll") == ["o"]
        services.catalogue_upload(text=RAISE_KAIGO_AGE, actor=admin_a, comment="70歳に")
        effective = selectors.catalogue_effective()
        assert effective.version.version == 1
        assert selectors.catalogue_effective().catalogue is effective.catalogue  # cached
        assert fired(selectors.navigator_run(data=SCENARIO), "kaigo.enroll") == []
        services.catalogue_upload(text="", actor=admin_a, comment="戻す")
        assert fired(selectors.navigator_run(data=SCENARIO), "kaigo.enroll") == ["o"]


def test_invalid_upload_is_refused_and_nothing_is_saved(admin_a):
    bad = "procedures:\n  - code: kaigo.enroll\n    condition: 'nope(person)'\n"
    with tenant_context("131016"), pytest.raises(ValidationError) as info:
        services.catalogue_upload(text=bad, actor=admin_a, comment="x")
    assert info.value.messages == [
        "procedures[0] (kaigo.enroll): condition: 未知のヘルパー関数 'nope'"
        "（使えるもの: age, any_eligible_child, compulsory_school, eligible_child, "
        "legal_age, school_age）"
    ]
    with tenant_context("131016"):
        assert not CatalogueVersion.objects.exists()
        assert not AuditEntry.objects.filter(action="catalogue.uploaded").exists()


def test_an_override_in_one_municipality_does_not_change_another(admin_a):
    with tenant_context("131016"):
        services.catalogue_upload(text=RAISE_KAIGO_AGE, actor=admin_a, comment="70歳に")
        assert fired(selectors.navigator_run(data=SCENARIO), "kaigo.enroll") == []
    with tenant_context("271403"):
        assert not CatalogueVersion.objects.exists()
        assert selectors.catalogue_effective().version is None
        assert fired(selectors.navigator_run(data=SCENARIO), "kaigo.enroll") == ["o"]


def test_without_a_municipality_the_default_catalogue_is_used():
    assert fired(selectors.navigator_run(data=SCENARIO), "kaigo.enroll") == ["o"]
