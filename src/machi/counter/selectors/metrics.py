"""The counter metrics page is a list of sections, each built by a selector function.

Extension point: a part of the counter app adds its section by appending the dotted
path of its builder to ``METRIC_SECTIONS``. A builder takes ``day`` (keyword) and
returns a ``MetricSection`` (or None to show nothing). Sections appear in list order.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.module_loading import import_string

METRIC_SECTIONS: list[str] = [
    # tickets issued, waiting time and handling time, today and by hour
    "machi.counter.selectors.tickets.ticket_metric_section",
    # open and taken tasks per department, overdue, ended on the day
    "machi.counter.selectors.visits.department_task_metric_section",
    # visits whose tasks span more than one department (counter)
    "machi.counter.selectors.visits.visit_counter_metric_section",
]


@dataclass(frozen=True)
class MetricSection:
    key: str  # an id for the HTML (``metrics-<key>``)
    title: str
    template: str  # rendered with ``section`` in its context
    data: Any


def metric_sections(*, day: datetime.date) -> list[MetricSection]:
    sections = []
    for path in METRIC_SECTIONS:
        section = import_string(path)(day=day)
        if section is not None:
            sections.append(section)
    return sections


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The ``fraction`` percentile by linear interpolation between the closest ranks
    (PostgreSQL's percentile_cont, numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class DurationStats:
    """Median and 90th percentile of durations in seconds (None when there are none)."""

    count: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, seconds: Sequence[float]) -> DurationStats:
        return cls(len(seconds), percentile(seconds, 0.5), percentile(seconds, 0.9))
