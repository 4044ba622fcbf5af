"""iCalendar (RFC 5545) for one event and for the calendar, with the icalendar library.

Times are local wall-clock times in Asia/Tokyo written with TZID=Asia/Tokyo and a
VTIMEZONE; all-day events are DATE values with the exclusive end day RFC 5545 §3.6.1
asks for. A cancelled event keeps its UID with STATUS:CANCELLED and a higher SEQUENCE,
so calendars that subscribed update it instead of keeping a stale copy.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings

from machi.localevents.models import Event, Status

TOKYO = ZoneInfo("Asia/Tokyo")


def _public_url(event: Event) -> str:
    return settings.MACHI_PUBLIC_URL.rstrip("/") + event.get_absolute_url()


def _component(event: Event, host: str) -> icalendar.Event:
    item = icalendar.Event()
    item.add("uid", f"{event.uid}@{host}")
    item.add("dtstamp", event.updated_at.astimezone(datetime.UTC))
    item.add("last-modified", event.updated_at.astimezone(datetime.UTC))
    item.add("sequence", event.sequence)
    if event.all_day:
        item.add("dtstart", event.starts_on)
        item.add("dtend", event.ends_on + datetime.timedelta(days=1))
    else:
        start = datetime.datetime.combine(event.starts_on, event.start_time, tzinfo=TOKYO)
        end = datetime.datetime.combine(event.ends_on, event.end_time, tzinfo=TOKYO)
        item.add("dtstart", start)
        item.add("dtend", end)
    item.add("summary", event.title.get("ja", ""))
    description = event.description.get("ja", "")
    if event.fee_yen:
        description += f"\n\n料金: {event.fee_yen:,}円"
    else:
        description += "\n\n料金: 無料"
    if event.fee_note:
        description += f"（{event.fee_note}）"
    description += f"\n主催: {event.organiser_name}"
    if event.contact_public and (event.contact_name or event.contact_phone):
        description += f"\n連絡先: {event.contact_name} {event.contact_phone}".rstrip()
    item.add("description", description)
    item.add("location", "、".join(filter(None, [event.place_name, event.address])))
    if event.lat is not None and event.long is not None:
        item.add("geo", (float(event.lat), float(event.long)))
    item.add("categories", [event.category.name_in("ja")])
    item.add("url", _public_url(event))
    item.add("status", "CANCELLED" if event.status == Status.CANCELLED else "CONFIRMED")
    if event.title.get("en"):
        item.add("x-machi-summary-en", event.title["en"])
    return item


def calendar_ics(*, events: Iterable[Event], name: str, host: str) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//machi//localevents//JA")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Asia/Tokyo")
    for event in events:
        cal.add_component(_component(event, host))
    cal.add_missing_timezones()
    if not cal.walk("VTIMEZONE"):
        # A calendar of all-day events only still names its zone (X-WR-TIMEZONE).
        cal.add_component(icalendar.Timezone.from_tzid("Asia/Tokyo"))
    return cal.to_ical()


def host_of(request) -> str:
    return request.get_host().split(":")[0] or "machi.invalid"
