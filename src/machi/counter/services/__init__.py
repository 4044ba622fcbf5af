"""Every write of the counter app (tickets; visits and department tasks)."""

from machi.counter.services.preapplications import (
    PreApplicationError,
    preapplication_create,
    preapplication_mark_used,
)
from machi.counter.services.tickets import (
    TicketError,
    ticket_call_next,
    ticket_cancel,
    ticket_finish,
    ticket_issue,
    ticket_no_show,
    ticket_recall,
    ticket_start,
)
from machi.counter.services.visits import (
    TaskError,
    task_complete,
    task_mark_not_needed,
    task_take,
    tasks_create,
    visit_open,
)

__all__ = [
    "PreApplicationError",
    "TaskError",
    "TicketError",
    "preapplication_create",
    "preapplication_mark_used",
    "task_complete",
    "task_mark_not_needed",
    "task_take",
    "tasks_create",
    "ticket_call_next",
    "ticket_cancel",
    "ticket_finish",
    "ticket_issue",
    "ticket_no_show",
    "ticket_recall",
    "ticket_start",
    "visit_open",
]
