"""Point → area by a real point-in-polygon test (shapely), then category × area → department.

On a border: an area *covers* its boundary (``covers``, not ``contains``), so a point
on the line between two 町丁目 is in both; the smallest area wins and equal sizes go
to the older area (lower id). Deterministic, and the same point always lands in the
same area. Overlapping areas: the smallest wins too (a park inside a 町丁目 takes the
park's point). A point outside every area has no area.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

import shapely
from django.core.exceptions import ValidationError
from django.db.models import Count, Max
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from machi.requests.models import Area
from machi.tenancy.context import current_lg_code


def geometry_parse(text: str) -> BaseGeometry:
    """A GeoJSON Polygon/MultiPolygon (or a Feature holding one), valid; else ValidationError."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ValidationError("区域は GeoJSON で指定してください。") from exc
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, dict) or data.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValidationError("区域は GeoJSON の Polygon か MultiPolygon にしてください。")
    try:
        geometry = shape(data)
    except (KeyError, TypeError, ValueError, shapely.errors.GEOSException) as exc:
        raise ValidationError("区域の座標が読めません。") from exc
    if geometry.is_empty or not geometry.is_valid:
        raise ValidationError(
            f"区域の形が正しくありません（{shapely.is_valid_reason(geometry)}）。"
        )
    return geometry


@dataclass(frozen=True)
class _Shape:
    area_id: int
    category_id: int | None
    size: float
    geometry: BaseGeometry


# lg_code → (signature of the area table, shapes, tree): rebuilt when any area changes.
_cache: dict[str, tuple[tuple, list[_Shape], shapely.STRtree | None]] = {}


def _shapes() -> tuple[list[_Shape], shapely.STRtree | None]:
    stats = Area.objects.exclude(geometry="").aggregate(n=Count("id"), at=Max("updated_at"))
    signature = (stats["n"], stats["at"])
    lg_code = current_lg_code()
    cached = _cache.get(lg_code)
    if cached is not None and cached[0] == signature:
        return cached[1], cached[2]
    shapes = []
    for area in Area.objects.exclude(geometry="").order_by("id"):
        geometry = geometry_parse(area.geometry)
        shapely.prepare(geometry)
        shapes.append(_Shape(area.pk, area.category_id, area.size, geometry))
    tree = shapely.STRtree([s.geometry for s in shapes]) if shapes else None
    _cache[lg_code] = (signature, shapes, tree)
    return shapes, tree


def area_for_point(*, lat: Decimal | float, long: Decimal | float, category_id: int) -> int | None:
    """The id of the area covering the point for this category (see the module's rules)."""
    shapes, tree = _shapes()
    if tree is None:
        return None
    point = Point(float(long), float(lat))
    hits = [
        shapes[i]
        for i in tree.query(point)
        if shapes[i].category_id in (None, category_id) and shapes[i].geometry.covers(point)
    ]
    if not hits:
        return None
    return min(hits, key=lambda s: (s.size, s.area_id)).area_id


def area_for_address(*, address: str, category_id: int) -> int | None:
    """The 町丁目 whose name the address contains (longest name first), for an address only."""
    compact = "".join(address.split())
    best = None
    for area in Area.objects.filter(kind="chome").exclude(name="").order_by("id"):
        if area.category_id not in (None, category_id):
            continue
        if area.name in compact and (best is None or len(area.name) > len(best.name)):
            best = area
    return best.pk if best else None
