"""Every write of the counter app (tickets; intake and tasks come later)."""

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

__all__ = [
    "TicketError",
    "ticket_call_next",
    "ticket_cancel",
    "ticket_finish",
    "ticket_issue",
    "ticket_no_show",
    "ticket_recall",
    "ticket_start",
]
