"""The demo municipality's catalogue: a few published datasets with real files."""

from __future__ import annotations

import codecs

from machi.opendata.services import ResourceIn, dataset_publish
from machi.tenancy.context import tenant_context

FACILITIES = (
    "名称,住所,緯度,経度,電話番号\r\n"
    "中央図書館,中央1-1-1,35.6812,139.7671,03-0000-0001\r\n"
    "市民体育館,緑町2-3-4,35.6850,139.7700,03-0000-0002\r\n"
    "子育て支援センター,本町3-5-6,35.6790,139.7650,03-0000-0003\r\n"
)
GARBAGE = (
    "地区,燃やすごみ,資源ごみ,不燃ごみ\r\n中央地区,月・木,水,第2金\r\n緑町地区,火・金,水,第4金\r\n"
)
PARKS = (
    '{"type": "FeatureCollection", "features": ['
    '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [139.768, 35.682]},'
    ' "properties": {"名称": "中央公園", "トイレ": true}},'
    '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [139.771, 35.686]},'
    ' "properties": {"名称": "緑町公園", "トイレ": false}}]}'
)


def demo_opendata_seed(lg_code: str) -> None:
    """Idempotent: publishing the same files again adds no version."""
    with tenant_context(lg_code):
        dataset_publish(
            slug="public-facilities", title="公共施設一覧", notes="市の主な公共施設の所在地です。",
            tags=["公共施設", "施設"], frequency="ANNUAL",
            resources=[ResourceIn(name="公共施設一覧", format="CSV",
                                  content=codecs.BOM_UTF8 + FACILITIES.encode(),
                                  media_type="text/csv")],
        )  # fmt: skip
        dataset_publish(
            slug="garbage-days", title="ごみ収集日", notes="地区ごとのごみ収集曜日です。",
            tags=["ごみ", "くらし"], frequency="ANNUAL",
            resources=[ResourceIn(name="ごみ収集日", format="CSV",
                                  content=GARBAGE.encode("cp932"), media_type="text/csv")],
        )  # fmt: skip
        dataset_publish(
            slug="parks", title="公園一覧", notes="市内の公園（位置情報つき）です。",
            tags=["公園", "地図"], frequency="IRREG",
            resources=[ResourceIn(name="公園", format="GeoJSON", content=PARKS.encode(),
                                  media_type="application/geo+json")],
        )  # fmt: skip
