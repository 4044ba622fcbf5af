"""Column layouts of the 自治体標準オープンデータセット that machi exports and imports.

No machine-readable copy of デジタル庁's definitions (the 項目定義書 xlsx of the 正式版) is
shipped with machi. The layouts were compared, column by column, with these published
transcriptions of them (the comparison is tests/test_layouts.py, whose reference lists
are typed from those sources, not from this file):

* 指定緊急避難場所一覧 (39 columns): the 正式版 項目定義書 as transcribed, with each
  item's 掲載区分, by the opendata-bridge project (EmergencyEvacuationSiteRequestBody),
  and the header つくば市's converter writes (tsukuba emergency shelter, 2024-12): both
  identical to this layout.
* 地域・年齢別人口 (55 columns): the header of 東京都オープンデータカタログ's 昭島市 file
  (catalog.data.metro.tokyo.lg.jp, dataset t132071d0000000006, 2025): 5-year bands to
  95-99, 100歳以上, 年齢不詳 and 世帯数. (The 2021 推奨データセット stopped at 85歳以上 and
  had no 年齢不詳; this is the layout municipalities publish now.)
* 公共施設一覧 and AED設置箇所一覧: no transcription of the 正式版 was found. They follow
  the 2021 推奨データセット items (NEC-FIWARE smart-data-models, cio/12 and cio/01), with
  the 正式版's renamings that the two datasets above show (NO → ID, 都道府県コード又は
  市区町村コード → 全国地方公共団体コード, 都道府県名 + 市区町村名 → 地方公共団体名, 住所 →
  the 所在地 block, 方書 → 建物名等(方書)) and its common blocks (名称_英字, the contact
  block, 郵便番号). The 推奨 items 法人番号 and 団体名 keep their names.

A layout is a list of (column, required). "Required" is machi's rule for an export (the
cell may not be empty), not the standard's 掲載区分: see docs/data.md. The JSON schemas
in ``schemas/`` are written from these lists and checked against them by the tests.
"""

from __future__ import annotations

BANDS = [f"{low}-{low + 4}歳" for low in range(0, 100, 5)] + ["100歳以上"]

POPULATION: list[tuple[str, bool]] = [
    ("都道府県コード又は市区町村コード", True),
    ("地域コード", False),
    ("都道府県名", True),
    ("市区町村名", True),
    ("調査年月日", True),
    ("地域名", False),
    ("総人口", True),
    ("男性", True),
    ("女性", True),
    *[(f"{band}の{sex}", True) for band in BANDS for sex in ("男性", "女性")],
    ("年齢不詳の男性", True),
    ("年齢不詳の女性", True),
    ("世帯数", True),
    ("備考", False),
]

_ADDRESS = [
    ("所在地_全国地方公共団体コード", False),
    ("町字ID", False),
    ("所在地_連結表記", True),
    ("所在地_都道府県", False),
    ("所在地_市区町村", False),
    ("所在地_町字", False),
    ("所在地_番地以下", False),
    ("建物名等(方書)", False),
]
_CONTACT = [
    ("電話番号", False),
    ("内線番号", False),
    ("連絡先メールアドレス", False),
    ("連絡先FormURL", False),
    ("連絡先備考（その他、SNSなど）", False),
]
HAZARDS = [
    ("災害種別_洪水", "flood"),
    ("災害種別_崖崩れ、土石流及び地滑り", "landslide"),
    ("災害種別_高潮", "storm_surge"),
    ("災害種別_地震", "earthquake"),
    ("災害種別_津波", "tsunami"),
    ("災害種別_大規模な火事", "large_fire"),
    ("災害種別_内水氾濫", "inland_flood"),
    ("災害種別_火山現象", "volcano"),
]

SHELTERS: list[tuple[str, bool]] = [
    ("全国地方公共団体コード", True),
    ("ID", True),
    ("名称", True),
    ("名称_カナ", False),
    ("名称_英字", False),
    *_ADDRESS,
    ("緯度", True),
    ("経度", True),
    ("標高", False),
    *_CONTACT,
    ("郵便番号", False),
    ("市区町村コード", True),
    ("地方公共団体名", False),
    *[(column, False) for column, _ in HAZARDS],
    ("指定避難所との重複", False),
    ("想定収容人数", False),
    ("対象となる町会・自治会", False),
    ("URL", False),
    ("画像", False),
    ("画像_ライセンス", False),
    ("備考", False),
]

FACILITIES: list[tuple[str, bool]] = [
    ("全国地方公共団体コード", True),
    ("ID", True),
    ("地方公共団体名", False),
    ("名称", True),
    ("名称_カナ", False),
    ("名称_英字", False),
    ("名称_通称", False),
    ("POIコード", False),
    *_ADDRESS,
    ("緯度", False),
    ("経度", False),
    *_CONTACT,
    ("郵便番号", False),
    ("法人番号", False),
    ("団体名", False),
    ("利用可能曜日", False),
    ("開始時間", False),
    ("終了時間", False),
    ("利用可能日時特記事項", False),
    ("説明", False),
    ("バリアフリー情報", False),
    ("URL", False),
    ("備考", False),
]

AED: list[tuple[str, bool]] = [
    ("全国地方公共団体コード", True),
    ("ID", True),
    ("地方公共団体名", False),
    ("名称", True),
    ("名称_カナ", False),
    ("名称_英字", False),
    *_ADDRESS,
    ("緯度", False),
    ("経度", False),
    ("設置位置", True),
    *_CONTACT,
    ("法人番号", False),
    ("団体名", False),
    ("利用可能曜日", False),
    ("開始時間", False),
    ("終了時間", False),
    ("利用可能日時特記事項", False),
    ("小児対応設備の有無", False),
    ("URL", False),
    ("備考", False),
]

LAYOUTS = {"population": POPULATION, "shelters": SHELTERS, "facilities": FACILITIES, "aed": AED}

# Column names that files of the same standard spell differently, and the standard's
# spelling. Matching ignores spaces and full/half-width brackets as well.
VARIANTS = {
    "名称_英語": "名称_英字",
    "名称（英字）": "名称_英字",
    "名称_カナ（必須）": "名称_カナ",
    "所在地_連結標記": "所在地_連結表記",
    "住所": "所在地_連結表記",
    "建物名等（方書）": "建物名等(方書)",
    "建物名（方書）": "建物名等(方書)",
    "方書": "建物名等(方書)",
    "画像ライセンス": "画像_ライセンス",
    "メールアドレス": "連絡先メールアドレス",
    "連絡先備考": "連絡先備考（その他、SNSなど）",
    "都道府県コード又は市区町村コード": "全国地方公共団体コード",
    "NO": "ID",
    # machi's own exports before the layouts were checked (docs/data.md)
    "設置者_法人番号": "法人番号",
    "設置者_名称": "団体名",
}
