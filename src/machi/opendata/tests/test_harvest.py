"""Mirroring a prefecture's CKAN catalogue: the fixture is a package_search answer
written after the shape of a Japanese prefecture's CKAN (its fields as CKAN returns
them; the packages and URLs are invented for the test)."""

import copy
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from machi.opendata.harvest import harvest_import
from machi.opendata.models import Dataset, Organization, State
from machi.opendata.services import OpendataError
from machi.opendata.tests.conftest import A, B
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

FIXTURE = Path(__file__).parent / "fixtures" / "prefecture_package_search.json"


def _payload() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def test_command_mirrors_the_prefecture(municipality_a, client):
    out = io.StringIO()
    call_command("opendata", "harvest", "--tenant", A, str(FIXTURE), stdout=out)
    assert "新規 3" in out.getvalue()
    with tenant_context(A):
        shelters = Dataset.objects.get(name="shizuoka-shelters")
        assert shelters.is_mirror and shelters.state == State.PUBLISHED
        assert shelters.organization.title == "静岡県"
        assert shelters.frequency == "ANNUAL"
        assert shelters.licence == "cc-by-4.0"
        assert shelters.contact_email == "kikiseisaku@pref.shizuoka.lg.jp"
        assert [r.format for r in shelters.resources.all()] == ["CSV", "GeoJSON"]
        assert Dataset.objects.get(name="shizuoka-aed").licence == "cc-zero"
        formats = sorted(
            r.format
            for r in Dataset.objects.get(name="shizuoka-population-monthly").resources.all()
        )
        assert formats == ["CSV", "XLSX"]
    body = json.loads(
        client.get(
            f"/{A}/api/3/action/package_search", {"fq": "organization:h-shizuoka-pref"}
        ).content
    )
    assert body["result"]["count"] == 3
    resource = body["result"]["results"][0]["resources"][0]
    assert resource["url"].startswith("https://opendata.pref.shizuoka.jp/")
    with tenant_context(B):
        assert not Dataset.objects.exists()

    out = io.StringIO()
    call_command("opendata", "harvest", "--tenant", A, str(FIXTURE), stdout=out)
    assert "変更なし 3" in out.getvalue()


def test_second_import_updates_and_withdraws(municipality_a):
    with tenant_context(A):
        harvest_import(payload=_payload(), source="pref.json")
        changed = _payload()
        changed["result"]["results"] = changed["result"]["results"][:2]
        changed["result"]["count"] = 2
        changed["result"]["results"][0]["title"] = "指定緊急避難場所一覧（改訂）"
        changed["result"]["results"][0]["metadata_modified"] = "2025-05-01T00:00:00.000000"
        outcome = harvest_import(payload=changed, source="pref.json")
        assert outcome.updated == ["shizuoka-shelters"]
        assert outcome.withdrawn == ["shizuoka-aed"]
        assert Dataset.objects.get(name="shizuoka-aed").state == State.UNPUBLISHED
        assert Dataset.objects.get(name="shizuoka-shelters").title == "指定緊急避難場所一覧（改訂）"


def test_a_partial_page_withdraws_nothing(municipality_a):
    with tenant_context(A):
        harvest_import(payload=_payload(), source="pref.json")
        page = _payload()
        page["result"]["results"] = page["result"]["results"][:1]  # count stays 3
        assert harvest_import(payload=page, source="pref.json").withdrawn == []


def test_own_dataset_with_the_same_name_wins(in_a, author):
    from machi.opendata.services import dataset_create

    dataset_create(actor=author, name="shizuoka-aed", title="区のAED")
    outcome = harvest_import(payload=_payload(), source="pref.json")
    assert outcome.skipped == ["shizuoka-aed"]
    assert Dataset.objects.get(name="shizuoka-aed").title == "区のAED"


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda p: p["result"]["results"][1].pop("id"), "2番目のパッケージ"),
        (
            lambda p: p["result"]["results"][2]["resources"][0].update(url="file:///etc/passwd"),
            "http(s)",
        ),
        (lambda p: p["result"]["results"][0].update(name="Not A Name!"), "識別名"),
        (lambda p: p["result"].update(results="nope"), "result.results"),
        (lambda p: p["result"]["results"][0].pop("organization"), "organization"),
    ],
)
def test_malformed_input_changes_nothing(in_a, break_it, message):
    payload = copy.deepcopy(_payload())
    break_it(payload)
    with pytest.raises(OpendataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        harvest_import(payload=payload, source="pref.json")
    assert not Dataset.objects.exists()
    assert not Organization.objects.exists()


def test_command_refuses_a_missing_or_broken_file(municipality_a, tmp_path):
    with pytest.raises(CommandError, match="JSON"):
        call_command("opendata", "harvest", "--tenant", A, str(tmp_path / "none.json"))
    broken = tmp_path / "broken.json"
    broken.write_text('{"result": {"results": [}', encoding="utf-8")
    with pytest.raises(CommandError, match="JSON"):
        call_command("opendata", "harvest", "--tenant", A, str(broken))
    with pytest.raises(CommandError):
        call_command("opendata", "harvest", "--tenant", "999999", str(FIXTURE))
