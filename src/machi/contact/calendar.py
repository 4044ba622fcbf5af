"""The municipality's business calendar for SLA timers: the contact center's opening
hours (``ContactSettings``) on the closed days of the procedure catalogue, the same
closed days the filing deadlines roll past (one calendar, DOMAIN.md §3)."""

from __future__ import annotations

import threading
from collections import OrderedDict

from machi.japanese.business_time import (
    DEFAULT_HOURS,
    BusinessCalendar,
    ClosedDays,
    parse_hours,
)
from machi.tenancy.context import current_lg_code

_cache: OrderedDict[tuple, BusinessCalendar] = OrderedDict()
_lock = threading.Lock()
_CACHE_SIZE = 64


def hours_from_settings(raw: dict) -> dict:
    """``{"0": "8:30-17:15", …}`` → weekday → intervals; weekdays not named keep the
    default (8:30–17:15 on Monday–Friday); ValueError on a malformed entry."""
    hours = dict(DEFAULT_HOURS)
    for key, text in (raw or {}).items():
        weekday = int(key)
        if weekday not in range(7):
            raise ValueError(f"weekday must be 0 … 6, not {key!r}")
        hours[weekday] = parse_hours(str(text))
    return hours


def contact_calendar() -> BusinessCalendar:
    """The calendar of the municipality in force (cached while nothing changed)."""
    from machi.contact.models import ContactSettings
    from machi.procedures.selectors import catalogue_effective

    settings = ContactSettings.objects.filter(pk=1).first()
    raw = settings.hours if settings else {}
    closed = catalogue_effective().catalogue.closed_days
    key = (current_lg_code(), tuple(sorted(raw.items())), closed)
    with _lock:
        calendar = _cache.get(key)
        if calendar is not None:
            _cache.move_to_end(key)
            return calendar
    calendar = BusinessCalendar(
        closed=ClosedDays(extra=frozenset(closed)), hours=hours_from_settings(raw)
    )
    with _lock:
        _cache[key] = calendar
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return calendar
