"""Counter models, one module per part (tickets; visits and department tasks)."""

from machi.counter.models.preapplications import PreApplication, PreApplicationIssue
from machi.counter.models.tickets import Ticket, TicketDay, TicketPurpose, TicketStatus
from machi.counter.models.visits import NotifierKind, Task, TaskStatus, Visit, VisitStatus

__all__ = [
    "NotifierKind",
    "PreApplication",
    "PreApplicationIssue",
    "Task",
    "TaskStatus",
    "Ticket",
    "TicketDay",
    "TicketPurpose",
    "TicketStatus",
    "Visit",
    "VisitStatus",
]
