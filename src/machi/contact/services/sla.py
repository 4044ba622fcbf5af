"""SLA settings (opening hours, policies) and the sweep that marks escalations and
breaches (run periodically by ``machi.contact.tasks``)."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from machi.accounts.roles import Role
from machi.audit.services import AuditRecord, Terminal, audit_append, audit_append_many
from machi.contact.calendar import hours_from_settings
from machi.contact.models import RUNNING, ContactSettings, Priority, SlaPolicy, Ticket, TicketEvent
from machi.contact.services.tickets import TicketError, sla_refresh
from machi.tenancy.context import current_lg_code, current_tenant_alias


def _require_admin(actor: Any) -> None:
    municipality = getattr(actor, "municipality", None)
    if (
        municipality is None
        or municipality.lg_code != current_lg_code()
        or not actor.has_role(Role.MUNICIPALITY_ADMIN, Role.SUPERVISOR)
    ):
        raise PermissionDenied(_("コールセンターの設定を変える権限がありません。"))


def contact_hours_set(
    *, hours: dict[str, str], actor: Any, terminal: Terminal | None = None
) -> ContactSettings:
    """Opening hours per weekday ``{"0": "8:30-17:15", "5": ""}`` (weekdays left out
    keep the default). Open tickets' due moments are recomputed."""
    _require_admin(actor)
    try:
        hours_from_settings(hours)
    except ValueError as exc:
        raise TicketError(_("受付時間が正しくありません: %(error)s") % {"error": exc}) from exc
    with transaction.atomic(using=current_tenant_alias()):
        settings, _created = ContactSettings.objects.update_or_create(
            pk=1, defaults={"hours": {str(k): str(v) for k, v in hours.items()}}
        )
        recomputed = _recompute_open()
        audit_append(action="contact.hours_set", actor=actor, object_type="contact_settings",
                     function="contact.contact_hours_set", terminal=terminal,
                     detail={"hours": settings.hours, "recomputed": recomputed})  # fmt: skip
    return settings


def sla_policy_set(
    *,
    priority: int,
    first_response_minutes: int,
    resolution_minutes: int,
    warn_before_minutes: int = 0,
    actor: Any,
    terminal: Terminal | None = None,
) -> SlaPolicy:
    """Targets of one priority, in business minutes. Tickets created afterwards get
    them; open tickets keep the targets they were created with."""
    _require_admin(actor)
    if priority not in Priority.values:
        raise TicketError(_("優先度が正しくありません。"))
    values = (first_response_minutes, resolution_minutes, warn_before_minutes)
    if any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in values):
        raise TicketError(_("目標は 0 以上の分数で入力してください。"))
    if resolution_minutes < first_response_minutes:
        raise TicketError(_("解決の目標は初回回答の目標以上にしてください。"))
    if warn_before_minutes >= first_response_minutes and first_response_minutes:
        raise TicketError(_("期限前の警告は初回回答の目標より短くしてください。"))
    with transaction.atomic(using=current_tenant_alias()):
        policy, _created = SlaPolicy.objects.update_or_create(
            priority=priority,
            defaults={"first_response_minutes": first_response_minutes,
                      "resolution_minutes": resolution_minutes,
                      "warn_before_minutes": warn_before_minutes},
        )  # fmt: skip
        audit_append(action="contact.sla_policy_set", actor=actor, object_type="sla_policy",
                     object_id=str(priority), function="contact.sla_policy_set",
                     terminal=terminal, detail={"targets": list(values)})  # fmt: skip
    return policy


def _recompute_open() -> int:
    tickets = list(Ticket.objects.filter(state__in=RUNNING, merged_into__isnull=True))
    for ticket in tickets:
        sla_refresh(ticket)
    Ticket.objects.bulk_update(
        tickets,
        ["sla_first_response_due_at", "sla_resolution_due_at", "sla_warn_at"],
        batch_size=1000,
    )
    return len(tickets)


def sla_sweep(
    *, now: datetime.datetime | None = None, terminal: Terminal | None = None
) -> dict[str, int]:
    """Mark, in the municipality in force, the running tickets whose escalation moment
    has come (``sla_escalated_at``) and those past a due moment (the breach is recorded
    at the due moment itself). Idempotent: a ticket is marked once."""
    now = now or timezone.now()
    counts = {}
    with transaction.atomic(using=current_tenant_alias()):
        running = Ticket.objects.filter(state__in=RUNNING)
        marks: list[tuple[int, str, str, Any]] = []  # ticket id, number, action, due
        # One statement per mark; the rows are read first (inside the transaction) for
        # the history and the audit entries.
        sweeps = [
            ("sla_escalated", running.filter(sla_warn_at__lte=now, sla_escalated_at__isnull=True),
             "sla_warn_at", {"sla_escalated_at": now, "sla_warn_at": None}),
            ("sla_first_response_breached",
             running.filter(sla_first_response_due_at__lte=now, first_response_at__isnull=True,
                            sla_first_response_breached_at__isnull=True),
             "sla_first_response_due_at",
             {"sla_first_response_breached_at": F("sla_first_response_due_at")}),
            ("sla_resolution_breached",
             running.filter(sla_resolution_due_at__lte=now,
                            sla_resolution_breached_at__isnull=True),
             "sla_resolution_due_at",
             {"sla_resolution_breached_at": F("sla_resolution_due_at")}),
        ]  # fmt: skip
        for action, queryset, due_field, changes in sweeps:
            rows = list(queryset.select_for_update().values_list("id", "number", due_field))
            ids = [row[0] for row in rows]
            for start in range(0, len(ids), 500):
                Ticket.objects.filter(pk__in=ids[start : start + 500]).update(**changes)
            marks += [(pk, number, action, due) for pk, number, due in rows]
            counts[action.removeprefix("sla_")] = len(rows)
        TicketEvent.objects.bulk_create([
            TicketEvent(ticket_id=pk, action=action, to_value=due.isoformat() if due else "",
                        created_at=now)
            for pk, _number, action, due in marks
        ], batch_size=1000)  # fmt: skip
        if marks:
            audit_append_many(records=[
                AuditRecord(action=f"contact.ticket.{action}", object_type="contact_ticket",
                            object_id=number, function="contact.sla_sweep", terminal=terminal)
                for _pk, number, action, _due in marks
            ])  # fmt: skip
    return counts
