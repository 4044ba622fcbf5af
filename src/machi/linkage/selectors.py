"""Reads on the outbox: the pull feed.

The outbox sequence is handed out under a lock held until commit, so sequence order
is commit order: a reader that has seen event n has seen every event before it, and a
cursor (``after``) never skips an event committed later with a smaller number.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from machi.linkage.events import event_type_pattern_valid
from machi.linkage.models import OutboxEvent

FEED_LIMIT_DEFAULT = 100
FEED_LIMIT_MAX = 1000
FEED_WAIT_MAX = 30.0
FEED_POLL_INTERVAL = 0.25  # seconds between looks at the outbox during a long poll

_COLUMNS = ("seq", "event_id", "type", "source", "subject", "time", "data")


class FeedError(ValueError):
    """Bad feed parameters; the message names the offending value."""


@dataclass(frozen=True)
class FeedPage:
    events: list[dict[str, Any]]  # CloudEvents 1.0, structured
    next_after: int
    has_more: bool


def feed_types_parse(text: str) -> list[str]:
    """``jp.machi.resident.*,jp.machi.task.created`` → patterns; FeedError if malformed."""
    patterns = [p.strip() for p in text.split(",") if p.strip()]
    bad = [p for p in patterns if not event_type_pattern_valid(p)]
    if bad:
        raise FeedError(
            f"イベント種別の指定が正しくありません: {', '.join(bad)}"
            "（例: jp.machi.resident.moved_in または jp.machi.resident.*）"
        )
    return patterns


def _types_q(patterns: Sequence[str]) -> Q:
    exact = [p for p in patterns if not p.endswith(".*")]
    q = Q(type__in=exact) if exact else Q()
    for pattern in patterns:
        if pattern.endswith(".*"):
            q |= Q(type__startswith=pattern[:-1])
    return q


def _cloudevent(row: tuple) -> dict[str, Any]:
    """The same document as ``OutboxEvent.as_cloudevent()``, from a values row."""
    seq, event_id, type_, source, subject, time_, data = row
    return {
        "specversion": "1.0",
        "id": str(event_id),
        "source": source,
        "type": type_,
        "subject": subject,
        "time": time_.isoformat(),
        "datacontenttype": "application/json",
        "sequence": seq,
        "data": data,
    }


def outbox_last_seq() -> int:
    """The sequence number of the newest committed event (0 for an empty outbox)."""
    return OutboxEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def feed_read(
    *, after: int = 0, limit: int = FEED_LIMIT_DEFAULT, types: Sequence[str] = ()
) -> FeedPage:
    """Events with sequence > ``after`` in order, at most ``limit``, of the given types
    (patterns; none = all). ``next_after`` is the cursor for the next call: the last
    event returned, or — when a type filter skipped events — the last one examined."""
    if not 1 <= limit <= FEED_LIMIT_MAX:
        raise FeedError(f"limit は 1 から {FEED_LIMIT_MAX} までです: {limit}")
    after = max(0, after)
    events = OutboxEvent.objects.filter(seq__gt=after)
    if types:
        # Bound the scan by the newest committed event, so the cursor can move past
        # events the filter skipped without ever passing one not yet committed.
        last = outbox_last_seq()
        if last <= after:
            return FeedPage([], after, False)
        events = events.filter(_types_q(types), seq__lte=last)
    rows = list(events.order_by("seq").values_list(*_COLUMNS)[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    if rows and (has_more or not types):
        next_after = rows[-1][0]
    elif types:
        next_after = last  # every event up to ``last`` was examined
    else:
        next_after = after
    return FeedPage([_cloudevent(row) for row in rows], next_after, has_more)


def feed_wait(
    *,
    after: int = 0,
    limit: int = FEED_LIMIT_DEFAULT,
    types: Sequence[str] = (),
    wait: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
) -> FeedPage:
    """``feed_read``; when it finds nothing and ``wait`` > 0, look again every
    FEED_POLL_INTERVAL seconds until an event arrives or ``wait`` seconds have passed
    (a long poll, in the request's own thread)."""
    if not 0 <= wait <= FEED_WAIT_MAX:
        raise FeedError(f"wait は 0 から {FEED_WAIT_MAX:g} 秒までです: {wait:g}")
    deadline = time.monotonic() + wait
    page = feed_read(after=after, limit=limit, types=types)
    while not page.events and time.monotonic() < deadline:
        sleep(min(FEED_POLL_INTERVAL, max(0.0, deadline - time.monotonic())))
        page = feed_read(after=page.next_after, limit=limit, types=types)
    return page
