"""Every read of the counter app (tickets and the metrics page; visits and tasks later)."""

from machi.counter.selectors.metrics import (
    METRIC_SECTIONS,
    DurationStats,
    MetricSection,
    metric_sections,
    percentile,
)
from machi.counter.selectors.tickets import (
    Board,
    HourMetrics,
    Queue,
    QueueRow,
    TicketMetrics,
    ticket_at_counter,
    ticket_board,
    ticket_day_counts,
    ticket_get,
    ticket_metric_section,
    ticket_metrics,
    ticket_queue,
    ticket_waiting_before,
)

__all__ = [
    "METRIC_SECTIONS",
    "Board",
    "DurationStats",
    "HourMetrics",
    "MetricSection",
    "Queue",
    "QueueRow",
    "TicketMetrics",
    "metric_sections",
    "percentile",
    "ticket_at_counter",
    "ticket_board",
    "ticket_day_counts",
    "ticket_get",
    "ticket_metric_section",
    "ticket_metrics",
    "ticket_queue",
    "ticket_waiting_before",
]
