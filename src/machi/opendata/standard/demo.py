"""Demo facility masters: a few fictional shelters, facilities and AEDs placed in the demo
municipalities' real town blocks (coordinates near each block; names invented)."""

from __future__ import annotations

from decimal import Decimal

from machi.opendata.standard.models import Aed, Facility, Shelter
from machi.tenancy.context import tenant_context

PLACES = {
    "131016": ("東京都", "千代田区", [
        ("丸の内一丁目", "1-1", "35.681200", "139.766100"),
        ("神田錦町二丁目", "2-3", "35.692400", "139.762800"),
        ("九段南一丁目", "3-4", "35.694100", "139.753600"),
    ]),
    "271403": ("大阪府", "堺市", [
        ("堺区南瓦町", "3-1", "34.573300", "135.483000"),
        ("北区新金岡町四丁", "1-8", "34.575500", "135.515900"),
        ("西区鳳東町四丁", "2-5", "34.539000", "135.460500"),
    ]),
}  # fmt: skip
NAMES = ["中央", "北", "西"]


def standard_demo_seed(*, lg_code: str) -> int:
    """Add the demo masters to ``lg_code`` (again: nothing changes). Returns rows added."""
    if lg_code not in PLACES:
        return 0
    prefecture, city, places = PLACES[lg_code]
    added = 0
    with tenant_context(lg_code):
        for index, (machiaza, banchi, lat, lon) in enumerate(places, start=1):
            name = NAMES[index - 1]
            common = {
                "prefecture": prefecture, "city": city, "machiaza": machiaza, "banchi": banchi,
                "address": f"{prefecture}{city}{machiaza}{banchi}",
                "latitude": Decimal(lat), "longitude": Decimal(lon),
            }  # fmt: skip
            _, created = Shelter.objects.get_or_create(
                standard_id=f"S{index:03d}",
                defaults={
                    **common, "name": f"{name}小学校（架空）", "name_kana": f"{name}ショウガッコウ",
                    "name_alphabet": f"{['Chuo', 'Kita', 'Nishi'][index - 1]} Elementary School",
                    "earthquake": True, "large_fire": True, "flood": index != 2,
                    "inland_flood": index == 1, "also_designated_shelter": True,
                    "capacity": 800 + 150 * index, "phone": f"03-0000-01{index:02d}",
                },
            )  # fmt: skip
            added += created
            _, created = Facility.objects.get_or_create(
                standard_id=f"F{index:03d}",
                defaults={
                    **common, "name": f"{name}区民会館（架空）",
                    "name_kana": f"{name}クミンカイカン", "poi_code": "0301",
                    "available_days": "月火水木金土", "opens_at": "09:00",
                    "closes_at": "21:00", "availability_note": "年末年始は休館",
                },
            )  # fmt: skip
            added += created
            _, created = Aed.objects.get_or_create(
                standard_id=f"A{index:03d}",
                defaults={
                    **common, "name": f"{name}区民会館（架空）", "placement": "1階 受付横",
                    "available_days": "月火水木金土", "opens_at": "09:00", "closes_at": "21:00",
                    "pediatric": Aed.Pediatric.YES if index == 1 else Aed.Pediatric.NO,
                },
            )  # fmt: skip
            added += created
    return added
