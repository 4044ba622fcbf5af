"""SLA arithmetic on business time: due moments of a ticket from its creation, its
targets and the business seconds it stood paused (回答待ち, 解決).

Positions (:meth:`BusinessCalendar.position`) are a clock that runs only while the
office is open: a target of N minutes is due at ``position(created) + N·60 + paused``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from machi.japanese.business_time import BusinessCalendar


@dataclass(frozen=True)
class SlaTimes:
    first_response_due: datetime.datetime | None
    resolution_due: datetime.datetime | None
    warn_at: datetime.datetime | None


def sla_times(
    *,
    calendar: BusinessCalendar,
    created_at: datetime.datetime,
    paused_seconds: int,
    first_response_minutes: int | None,
    resolution_minutes: int | None,
    warn_before_minutes: int | None,
    first_response_done: bool,
) -> SlaTimes:
    """Due moments of the targets still open, and the moment to escalate: the earliest
    open target less ``warn_before_minutes`` of business time (never before creation)."""
    start = calendar.position(created_at) + paused_seconds
    warn = (warn_before_minutes or 0) * 60

    def at(position: int) -> datetime.datetime:
        # a ticket created after hours has the position of the last closing time
        return max(calendar.moment_at(position), created_at)

    first = resolution = None
    warn_positions = []
    if first_response_minutes is not None and not first_response_done:
        first_pos = start + first_response_minutes * 60
        first = at(first_pos)
        warn_positions.append(max(first_pos - warn, start))
    if resolution_minutes is not None:
        resolution_pos = start + resolution_minutes * 60
        resolution = at(resolution_pos)
        warn_positions.append(max(resolution_pos - warn, start))
    warn_at = at(min(warn_positions)) if warn_positions else None
    return SlaTimes(first, resolution, warn_at)
