"""The shipped column schemas compared, column by column, with the published definitions
of the 自治体標準オープンデータセット (see layouts.py for the sources). The reference lists
below are typed from those sources, not from machi's layouts, so a change to a layout
that leaves the standard fails here."""

from __future__ import annotations

import json

import pytest

from machi.opendata.standard import layouts
from machi.opendata.standard.masters import MASTERS, ImportRefused, master_parse
from machi.opendata.standard.schema import SCHEMAS, schema_build, schema_load

# 指定緊急避難場所一覧, 正式版 項目定義書 (opendata-bridge's transcription with 掲載区分;
# the same header as つくば市's converter). "必須" items marked True.
SHELTERS_STANDARD: list[tuple[str, bool]] = [
    ("全国地方公共団体コード", False), ("ID", False), ("名称", True), ("名称_カナ", False),
    ("名称_英字", False), ("所在地_全国地方公共団体コード", False), ("町字ID", False),
    ("所在地_連結表記", True), ("所在地_都道府県", False), ("所在地_市区町村", False),
    ("所在地_町字", False), ("所在地_番地以下", False), ("建物名等(方書)", False),
    ("緯度", False), ("経度", False), ("標高", False), ("電話番号", True), ("内線番号", False),
    ("連絡先メールアドレス", False), ("連絡先FormURL", False),
    ("連絡先備考（その他、SNSなど）", False), ("郵便番号", False), ("市区町村コード", True),
    ("地方公共団体名", False), ("災害種別_洪水", True),
    ("災害種別_崖崩れ、土石流及び地滑り", True), ("災害種別_高潮", True),
    ("災害種別_地震", True), ("災害種別_津波", True), ("災害種別_大規模な火事", True),
    ("災害種別_内水氾濫", True), ("災害種別_火山現象", True), ("指定避難所との重複", True),
    ("想定収容人数", False), ("対象となる町会・自治会", False), ("URL", False),
    ("画像", False), ("画像_ライセンス", False), ("備考", False),
]  # fmt: skip

# 地域・年齢別人口: the header of 昭島市's published file (東京都オープンデータカタログ).
POPULATION_HEADER = (
    "都道府県コード又は市区町村コード,地域コード,都道府県名,市区町村名,調査年月日,地域名,"
    "総人口,男性,女性,0-4歳の男性,0-4歳の女性,5-9歳の男性,5-9歳の女性,10-14歳の男性,"
    "10-14歳の女性,15-19歳の男性,15-19歳の女性,20-24歳の男性,20-24歳の女性,25-29歳の男性,"
    "25-29歳の女性,30-34歳の男性,30-34歳の女性,35-39歳の男性,35-39歳の女性,40-44歳の男性,"
    "40-44歳の女性,45-49歳の男性,45-49歳の女性,50-54歳の男性,50-54歳の女性,55-59歳の男性,"
    "55-59歳の女性,60-64歳の男性,60-64歳の女性,65-69歳の男性,65-69歳の女性,70-74歳の男性,"
    "70-74歳の女性,75-79歳の男性,75-79歳の女性,80-84歳の男性,80-84歳の女性,85-89歳の男性,"
    "85-89歳の女性,90-94歳の男性,90-94歳の女性,95-99歳の男性,95-99歳の女性,"
    "100歳以上の男性,100歳以上の女性,年齢不詳の男性,年齢不詳の女性,世帯数,備考"
)
POPULATION_STANDARD = POPULATION_HEADER.split(",")

# 公共施設一覧 and AED設置箇所一覧: the 2021 推奨データセット items (NEC-FIWARE
# smart-data-models cio/12, cio/01) in their order, and the 正式版's renamings.
FACILITIES_RECOMMENDED = [
    "都道府県コード又は市区町村コード", "NO", "都道府県名", "市区町村名", "名称", "名称_カナ",
    "名称_通称", "POIコード", "住所", "方書", "緯度", "経度", "電話番号", "内線番号",
    "法人番号", "団体名", "利用可能曜日", "開始時間", "終了時間", "利用可能日時特記事項",
    "説明", "バリアフリー情報", "URL", "備考",
]  # fmt: skip
AED_RECOMMENDED = [
    "都道府県コード又は市区町村コード", "NO", "都道府県名", "市区町村名", "名称", "名称_カナ",
    "住所", "方書", "緯度", "経度", "設置位置", "電話番号", "内線番号", "法人番号", "団体名",
    "利用可能曜日", "開始時間", "終了時間", "利用可能日時特記事項", "小児対応設備の有無",
    "URL", "備考",
]  # fmt: skip
RENAMED = {
    "都道府県コード又は市区町村コード": "全国地方公共団体コード",
    "NO": "ID",
    "都道府県名": "地方公共団体名",
    "市区町村名": "地方公共団体名",
    "住所": "所在地_連結表記",
    "方書": "建物名等(方書)",
}
# What the 正式版 adds to every facility list (as 指定緊急避難場所一覧 shows it).
COMMON_BLOCKS = {
    "名称_英字", "所在地_全国地方公共団体コード", "町字ID", "所在地_都道府県",
    "所在地_市区町村", "所在地_町字", "所在地_番地以下", "連絡先メールアドレス",
    "連絡先FormURL", "連絡先備考（その他、SNSなど）", "郵便番号",
}  # fmt: skip


def names(dataset: str) -> list[str]:
    return [field["name"] for field in schema_load(dataset)["fields"]]


def test_shelters_schema_is_the_standard_column_by_column():
    shipped = schema_load("shelters")["fields"]
    assert len(shipped) == len(SHELTERS_STANDARD) == 39
    pairs = zip(shipped, SHELTERS_STANDARD, strict=True)
    for number, (field, (column, _)) in enumerate(pairs, start=1):
        assert field["name"] == column, f"column {number}"


def test_shelters_required_cells_cover_what_the_standard_requires_non_empty():
    """必須 items whose empty value means something (災害種別: 空文字 = 対応なし) may be
    empty; the other 必須 items are required by the schema too, except 電話番号 (many
    places are parks without a telephone: docs/data.md)."""
    fields = schema_load("shelters")["fields"]
    required = {f["name"] for f in fields if f.get("constraints", {}).get("required")}
    flags = {column for column, _ in layouts.HAZARDS} | {"指定避難所との重複"}
    must = {column for column, needed in SHELTERS_STANDARD if needed} - flags - {"電話番号"}
    assert must <= required
    for column in flags:
        field = next(f for f in fields if f["name"] == column)
        assert field["constraints"]["enum"] == ["1", ""]


def test_population_schema_is_the_published_header_column_by_column():
    shipped = names("population")
    assert len(shipped) == len(POPULATION_STANDARD) == 55
    pairs = zip(shipped, POPULATION_STANDARD, strict=True)
    for number, (ours, theirs) in enumerate(pairs, start=1):
        assert ours == theirs, f"column {number}"


@pytest.mark.parametrize(
    ("dataset", "recommended"), [("facilities", FACILITIES_RECOMMENDED), ("aed", AED_RECOMMENDED)]
)
def test_facility_lists_keep_every_recommended_item_in_its_order(dataset, recommended):
    shipped = names(dataset)
    expected: list[str] = []
    for column in recommended:
        renamed = RENAMED.get(column, column)
        if renamed not in expected:
            expected.append(renamed)
    positions = [shipped.index(column) for column in expected]  # ValueError: missing
    assert positions == sorted(positions), "out of the standard's order"
    extra = set(shipped) - set(expected)
    assert extra <= COMMON_BLOCKS, extra
    assert shipped[:3] == ["全国地方公共団体コード", "ID", "地方公共団体名"]


@pytest.mark.parametrize("dataset", ["population", "shelters", "facilities", "aed"])
def test_the_shipped_json_is_what_the_layout_writes(dataset):
    shipped = json.loads((SCHEMAS / f"{dataset}.json").read_text(encoding="utf-8"))
    assert shipped == schema_build(dataset)
    assert [f["name"] for f in shipped["fields"]] == [c for c, _ in layouts.LAYOUTS[dataset]]


@pytest.mark.parametrize("dataset", ["shelters", "facilities", "aed"])
def test_every_column_is_exported_from_a_field_or_the_municipality(dataset):
    master = MASTERS[dataset]
    municipal = {"全国地方公共団体コード", "所在地_全国地方公共団体コード", "市区町村コード"}
    municipal.add("地方公共団体名")
    for column in names(dataset):
        assert column in master.fields or column in municipal, column


def test_machis_earlier_owner_columns_still_import():
    """Files machi wrote before the AED columns were renamed to the standard's."""
    content = (
        "ID,名称,所在地_連結表記,設置位置,設置者_法人番号,設置者_名称\r\n"
        "A9,区民会館（架空）,東京都千代田区九段南1-2,1階,1234567890123,千代田区\r\n"
    ).encode("utf-8-sig")
    (row,) = master_parse(dataset="aed", content=content)
    assert row["owner_corporate_number"] == "1234567890123" and row["owner_name"] == "千代田区"


def test_a_corporate_number_that_is_not_13_digits_is_refused_with_line_and_column():
    content = (
        "ID,名称,所在地_連結表記,法人番号\r\nF9,区民会館（架空）,東京都千代田区1-1,12345\r\n"
    ).encode()
    with pytest.raises(ImportRefused) as refused:
        master_parse(dataset="facilities", content=content)
    (problem,) = refused.value.problems
    assert (problem.line, problem.field) == (2, "法人番号")
    assert "13 桁" in problem.reason
