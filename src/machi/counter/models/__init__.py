"""Counter models, one module per part (tickets; visits, intake and tasks come later)."""

from machi.counter.models.tickets import Ticket, TicketDay, TicketPurpose, TicketStatus

__all__ = ["Ticket", "TicketDay", "TicketPurpose", "TicketStatus"]
