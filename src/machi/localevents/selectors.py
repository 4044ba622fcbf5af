"""Reads on local events: the public calendar, the feeds' rows, the moderators' queue."""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet

from machi.localevents.models import Category, Event, Status

LISTED = (Status.PUBLISHED, Status.CANCELLED)


def categories() -> list[Category]:
    return list(Category.objects.all())


def listed_events(*, category: Category | None = None) -> QuerySet[Event]:
    """Events on the public calendar (published or cancelled), oldest first."""
    qs = Event.objects.filter(status__in=LISTED).select_related("category")
    return qs.filter(category=category) if category is not None else qs


def listed_event_get(*, pk: int) -> Event | None:
    return listed_events().filter(pk=pk).first()


def listed_changed_at(*, category: Category | None = None) -> tuple[datetime.datetime | None, int]:
    """The latest change and the count of listed events (for ETag and Last-Modified)."""
    agg = listed_events(category=category).aggregate(last=Max("updated_at"), n=Count("id"))
    return agg["last"], agg["n"]


@dataclass(frozen=True)
class Day:
    date: datetime.date | None  # None: a blank cell before the 1st or after the last day
    events: list[Event]


def month_weeks(*, year: int, month: int, category: Category | None = None) -> tuple[
    list[list[Day]], list[Event]
]:  # fmt: skip
    """The month as weeks of days (Sunday first, as Japanese calendars are) with the
    events on each day, and the month's events as a list."""
    first = datetime.date(year, month, 1)
    last = datetime.date(year, month, calendar.monthrange(year, month)[1])
    events = list(listed_events(category=category).filter(starts_on__lte=last, ends_on__gte=first))
    weeks = []
    for week in calendar.Calendar(firstweekday=6).monthdatescalendar(year, month):
        weeks.append(
            [
                Day(d, [e for e in events if e.starts_on <= d <= e.ends_on])
                if d.month == month
                else Day(None, [])
                for d in week
            ]
        )
    return weeks, events


def moderation_queue() -> list[Event]:
    """Residents' events waiting for a moderator (address confirmed), oldest first."""
    return list(
        Event.objects.filter(status=Status.PENDING, official=False, confirmed_at__isnull=False)
        .select_related("category")
        .order_by("updated_at", "id")
    )


def hidden_by_reports() -> list[Event]:
    return list(
        Event.objects.filter(status=Status.HIDDEN, auto_hidden=True)
        .annotate(open_reports=Count("reports", filter=Q(reports__resolved=False)))
        .select_related("category")
        .order_by("-updated_at")
    )


def staff_events() -> list[Event]:
    """Every event for the staff list, newest start first."""
    return list(
        Event.objects.select_related("category")
        .annotate(open_reports=Count("reports", filter=Q(reports__resolved=False)))
        .order_by("-starts_on", "-id")[:200]
    )
