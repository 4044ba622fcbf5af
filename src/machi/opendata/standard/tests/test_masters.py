"""Facility masters: exports in the standard's columns (schema-valid), imports of those
layouts with the known variants, broken files refused with line, column and reason."""

from __future__ import annotations

import pytest

from machi.opendata.standard import layouts
from machi.opendata.standard.demo import standard_demo_seed
from machi.opendata.standard.masters import ImportRefused, master_export, master_import
from machi.opendata.standard.models import Aed, Facility, Shelter
from machi.opendata.standard.schema import schema_load, schema_validate
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")


def shelter_file(header: list[str], rows: list[list[str]], *, encoding="utf-8-sig", end="\r\n"):
    lines = [",".join(header)] + [",".join(row) for row in rows]
    return (end.join(lines) + end).encode(encoding)


@pytest.mark.parametrize("dataset", ["shelters", "facilities", "aed"])
def test_exports_follow_the_schema_column_by_column(municipality_a, dataset):
    standard_demo_seed(lg_code="131016")
    with tenant_context("131016"):
        content = master_export(dataset=dataset, lg_code="131016", municipality_name="千代田区")
    assert content.startswith("\ufeff".encode())
    header = content.decode("utf-8-sig").split("\r\n")[0].split(",")
    assert header == [field["name"] for field in schema_load(dataset)["fields"]]
    assert header == [column for column, _ in layouts.LAYOUTS[dataset]]
    assert schema_validate(dataset=dataset, content=content) == []
    if dataset == "shelters":
        assert len(header) == 39


def test_export_then_import_round_trips(municipality_a):
    standard_demo_seed(lg_code="131016")
    with tenant_context("131016"):
        content = master_export(dataset="shelters", lg_code="131016", municipality_name="千代田区")
        before = list(Shelter.objects.values())
        result = master_import(dataset="shelters", content=content)
        assert (result.created, result.updated) == (0, 3)
        after = list(Shelter.objects.values())
    strip = [{k: v for k, v in row.items() if k != "updated_at"} for row in before]
    assert strip == [{k: v for k, v in row.items() if k != "updated_at"} for row in after]


def test_import_tolerates_variants_missing_columns_crlf_and_shift_jis(municipality_a):
    header = [
        "NO",
        "名称",
        "名称_英語",
        "住所",
        "緯度",
        "経度",
        "災害種別_地震",
        "想定収容人数",
        "独自の列",
    ]
    row = [
        "S9",
        "髙田公園（架空）",
        "Takada Park",
        "東京都千代田区九段南1-2",
        "35.69",
        "139.75",
        "1",
        '"1,200"',
        "x",
    ]
    content = shelter_file(header, [row], encoding="cp932", end="\r\n")
    with tenant_context("131016"):
        result = master_import(dataset="shelters", content=content)
        shelter = Shelter.objects.get(standard_id="S9")
    assert result.created == 1
    assert shelter.name == "髙田公園（架空）" and shelter.name_alphabet == "Takada Park"
    assert shelter.earthquake and not shelter.flood and shelter.capacity == 1200
    assert shelter.address == "東京都千代田区九段南1-2"


def test_a_broken_file_is_refused_with_line_column_and_reason_and_changes_nothing(municipality_a):
    standard_demo_seed(lg_code="131016")
    header = ["ID", "名称", "所在地_連結表記", "緯度", "経度", "災害種別_洪水"]
    rows = [
        ["S001", "変更後の名前", "東京都千代田区丸の内1-1", "35.68", "139.76", "1"],
        ["S050", "", "東京都千代田区", "95", "139.7", "はい"],
        ["S001", "重複", "東京都千代田区", "35.6", "139.7", ""],
    ]
    with tenant_context("131016"), pytest.raises(ImportRefused) as refused:
        master_import(dataset="shelters", content=shelter_file(header, rows))
    found = {(p.line, p.field) for p in refused.value.problems}
    assert {(3, "名称"), (3, "緯度"), (3, "災害種別_洪水"), (4, "ID")} <= found
    with tenant_context("131016"):
        assert Shelter.objects.get(standard_id="S001").name == "中央小学校（架空）"
        assert not Shelter.objects.filter(standard_id="S050").exists()


def test_a_file_without_a_required_column_or_unreadable_is_refused(municipality_a):
    with tenant_context("131016"):
        with pytest.raises(ImportRefused) as refused:
            master_import(dataset="aed", content=shelter_file(["ID", "名称"], [["A1", "x"]]))
        assert {p.field for p in refused.value.problems} >= {"設置位置", "所在地_連結表記"}
        with pytest.raises(ImportRefused):
            master_import(dataset="aed", content=b"\xff\xfe\x00\x81")
        with pytest.raises(ImportRefused) as refused:
            master_import(dataset="facilities", content=b"")
        assert Aed.objects.count() == 0 and Facility.objects.count() == 0


def test_demo_seed_is_idempotent_and_per_municipality(municipality_a, municipality_b):
    assert standard_demo_seed(lg_code="131016") == 9
    assert standard_demo_seed(lg_code="131016") == 0
    with tenant_context("271403"):
        assert Shelter.objects.count() == 0
