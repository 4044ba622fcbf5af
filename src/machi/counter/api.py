"""Counter API: the life-event intake (POST /api/v1/{lg_code}/life-events)."""

from __future__ import annotations

import json

from django.http import HttpRequest
from django.urls import reverse
from ninja import Router, Schema, Status

from machi.accounts.roles import Role
from machi.apiclients.auth import StaffSession
from machi.audit.services import Terminal
from machi.counter.services.intake import IntakeError, life_event_confirm

INTAKE_ROLES = (Role.COUNTER_CLERK, Role.DEPARTMENT_STAFF, Role.SUPERVISOR)


router = Router(tags=["counter"])


class ProcedureOut(Schema):
    code: str
    title: str
    department: str
    person: str | None
    # who files the procedure or receives the benefit when not ``person``
    filer: str | None = None
    due: str | None
    reason: str


class IntakeOut(Schema):
    visit: str
    status_url: str
    change: str
    procedures: list[ProcedureOut]
    task_ids: list[int]
    atena_numbers: dict[str, str]
    residents_changed: list[str]


class IntakeErrorOut(Schema):
    detail: str
    errors: list[str]


@router.post(
    "/{lg_code}/life-events",
    auth=StaffSession(*INTAKE_ROLES),
    response={201: IntakeOut, 400: IntakeErrorOut, 422: IntakeErrorOut},
    summary="ライフイベントの受付（総合窓口）",
)
def life_events(request: HttpRequest, lg_code: str):
    """Record a life event: the registry change, every procedure that follows (the
    navigator), one task per procedure for its department, the outbox events — in one
    transaction. The body is the navigator input whose persons are existing residents
    (``atena_number``) or new persons (``name``, ``kana``, ``sex``, ``birth_date``,
    ``relationship``), plus ``address`` (move in/within) or ``destination`` (move out),
    and optionally the 届出人 who came to the counter: ``notifier`` = ``{"kind": "member",
    "person": <persons id>}`` or ``{"kind": "agent", "name", "relationship", "kana"?,
    "address"?}``. The procedure the registry change itself carries out (転入届, 出生…)
    is created done."""
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as error:
        message = f"JSON として読めません: {error}"
        return Status(400, {"detail": message, "errors": [message]})
    try:
        result = life_event_confirm(
            data=data, actor=request.auth, terminal=Terminal.from_request(request)
        )
    except IntakeError as error:
        return Status(422, {"detail": str(error), "errors": error.errors})
    return Status(
        201,
        {
            "visit": result.visit.public_code,
            "status_url": reverse("counter:visit_status", args=[lg_code, result.visit.public_code]),
            "change": result.change,
            "procedures": result.procedures,
            "task_ids": result.task_ids,
            "atena_numbers": result.atena_numbers,
            "residents_changed": result.residents_changed,
        },
    )
