"""Reads on queue tickets: the display board, a window's console, the waiting list and
the day's metrics. Each is a fixed number of queries whatever the number of tickets."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, F, Min, Q
from django.db.models.expressions import Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from machi.counter.models import Ticket, TicketPurpose, TicketStatus
from machi.counter.models.tickets import AT_WINDOW
from machi.counter.selectors.metrics import DurationStats, MetricSection

BOARD_CALLS = 6


def _today(day: datetime.date | None) -> datetime.date:
    return day or timezone.localdate()


def ticket_get(*, pk: int) -> Ticket | None:
    return Ticket.objects.filter(pk=pk).first()


# --- the display board ------------------------------------------------------------------


@dataclass(frozen=True)
class Board:
    """The latest calls still at a window (newest first) and how many people wait.

    The newest is shown large; the side panel lists them all (the newest too), so a
    single call is never shown beside an empty list."""

    calls: list[Ticket]
    waiting: int

    @property
    def latest(self) -> Ticket | None:
        return self.calls[0] if self.calls else None

    @property
    def latest_key(self) -> str:
        """Changes when a new number is called or the latest one is called again."""
        latest = self.latest
        return f"{latest.pk}.{latest.call_count}" if latest else "-"

    @property
    def state(self) -> str:
        """A short fingerprint of everything the board shows: ``<latest_key>/<digest>``."""
        shown = [(t.pk, t.number, t.counter, t.status, t.call_count) for t in self.calls]
        digest = hashlib.sha256(repr((shown, self.waiting)).encode()).hexdigest()[:16]
        return f"{self.latest_key}/{digest}"


def ticket_board(*, day: datetime.date | None = None, limit: int = BOARD_CALLS) -> Board:
    """Two queries: the latest ``limit`` calls still at a window, and the waiting count."""
    day = _today(day)
    calls = list(
        Ticket.objects.filter(issued_on=day, status__in=AT_WINDOW)
        .order_by("-last_called_at", "-number")
        .only("pk", "number", "counter", "status", "call_count", "last_called_at")[:limit]
    )
    waiting = Ticket.objects.filter(issued_on=day, status=TicketStatus.WAITING).count()
    return Board(calls=calls, waiting=waiting)


# --- a window's console ------------------------------------------------------------------


def ticket_at_counter(*, counter: str, day: datetime.date | None = None) -> Ticket | None:
    """The ticket window ``counter`` has called and not yet finished (one query)."""
    if not counter:
        return None
    return (
        Ticket.objects.filter(issued_on=_today(day), counter=counter, status__in=AT_WINDOW)
        .order_by("-last_called_at")
        .first()
    )


@dataclass(frozen=True)
class QueueRow:
    purpose: str
    label: str
    count: int
    longest_wait: float | None  # seconds the oldest waiting ticket has waited
    next_numbers: list[int]
    selected: bool  # one of the purposes this window handles


@dataclass(frozen=True)
class Queue:
    rows: list[QueueRow]
    total: int


def ticket_queue(
    *,
    day: datetime.date | None = None,
    purposes: Iterable[str] = (),
    show: int = 8,
) -> Queue:
    """Who waits, per purpose: how many, since when, and the next ``show`` numbers.

    Two queries (counts per purpose; the first numbers of each purpose by a window
    function), whatever the length of the queue.
    """
    day = _today(day)
    selected = set(purposes)
    waiting = Ticket.objects.filter(issued_on=day, status=TicketStatus.WAITING)
    counts = {
        row["purpose"]: row
        for row in waiting.values("purpose").annotate(n=Count("id"), oldest=Min("issued_at"))
    }
    first_numbers = (
        waiting.annotate(
            rank=Window(RowNumber(), partition_by=[F("purpose")], order_by=[F("number").asc()])
        )
        .filter(rank__lte=show)
        .order_by("purpose", "number")
        .values_list("purpose", "number")
        if counts
        else []
    )
    numbers: dict[str, list[int]] = {}
    for purpose, number in first_numbers:
        numbers.setdefault(purpose, []).append(number)
    now = timezone.now()
    rows = [
        QueueRow(
            purpose=code,
            label=str(label),
            count=counts[code]["n"] if code in counts else 0,
            longest_wait=(now - counts[code]["oldest"]).total_seconds() if code in counts else None,
            next_numbers=numbers.get(code, []),
            selected=code in selected,
        )
        for code, label in TicketPurpose.choices
    ]
    return Queue(rows=rows, total=sum(row.count for row in rows))


def ticket_waiting_before(*, ticket: Ticket) -> int:
    """How many tickets of the same day wait with a smaller number (one query)."""
    return Ticket.objects.filter(
        issued_on=ticket.issued_on, status=TicketStatus.WAITING, number__lt=ticket.number
    ).count()


def ticket_day_counts(*, day: datetime.date | None = None) -> dict[str, int]:
    """Tickets issued today and people waiting (one query)."""
    return Ticket.objects.filter(issued_on=_today(day)).aggregate(
        issued=Count("id"), waiting=Count("id", filter=Q(status=TicketStatus.WAITING))
    )


# --- metrics --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HourMetrics:
    hour: int  # local hour of issue, 0–23
    issued: int
    waiting: DurationStats
    handling: DurationStats


@dataclass(frozen=True)
class TicketMetrics:
    """One day's tickets. Waiting time = first call − issue; handling time = finish −
    start of handling (tickets served to the end: 完了 at the console, or the intake's
    確定 of a visit opened from the ticket). Hours are the local hour of issue."""

    day: datetime.date
    issued: int
    by_status: dict[str, int]
    waiting: DurationStats
    handling: DurationStats
    hours: list[HourMetrics]

    def status_rows(self) -> list[tuple[str, int]]:
        return [(str(label), self.by_status.get(code, 0)) for code, label in TicketStatus.choices]


def ticket_metrics(*, day: datetime.date) -> TicketMetrics:
    """The day's ticket figures from one query (a day holds at most a few thousand)."""
    rows = Ticket.objects.filter(issued_on=day).values_list(
        "status", "issued_at", "called_at", "served_at", "finished_at"
    )
    by_status: dict[str, int] = {}
    waiting: list[float] = []
    handling: list[float] = []
    per_hour: dict[int, tuple[list[float], list[float], list[float]]] = {}
    for status, issued_at, called_at, served_at, finished_at in rows:
        by_status[status] = by_status.get(status, 0) + 1
        issued, waits, handles = per_hour.setdefault(
            timezone.localtime(issued_at).hour, ([], [], [])
        )
        issued.append(issued_at.timestamp())
        if called_at is not None:
            seconds = (called_at - issued_at).total_seconds()
            waiting.append(seconds)
            waits.append(seconds)
        if served_at is not None and finished_at is not None and status == TicketStatus.DONE:
            seconds = (finished_at - served_at).total_seconds()
            handling.append(seconds)
            handles.append(seconds)
    hours = []
    if per_hour:
        for hour in range(min(per_hour), max(per_hour) + 1):
            issued, waits, handles = per_hour.get(hour, ([], [], []))
            hours.append(
                HourMetrics(
                    hour=hour,
                    issued=len(issued),
                    waiting=DurationStats.of(waits),
                    handling=DurationStats.of(handles),
                )
            )
    return TicketMetrics(
        day=day,
        issued=sum(by_status.values()),
        by_status=by_status,
        waiting=DurationStats.of(waiting),
        handling=DurationStats.of(handling),
        hours=hours,
    )


def ticket_metric_section(*, day: datetime.date) -> MetricSection:
    return MetricSection(
        key="tickets",
        title=_("整理券"),
        template="counter/metrics/_tickets.html",
        data=ticket_metrics(day=day),
    )
