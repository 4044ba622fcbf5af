"""Reads of the one-step move. Every read of personal data is audited: the movers'
record read at the origin for the destination, the reservation opened at the
destination, the notification read for the origin."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet

from machi.audit.services import AuditRecord, Terminal, audit_append, audit_append_many
from machi.moves.models import MoveReservation, OutgoingMove, ReservationStatus
from machi.moves.sealing import unseal
from machi.registry.models import Resident
from machi.registry.mynumber import my_number_open
from machi.tenancy.context import current_lg_code
from machi.tenancy.models import Municipality

FLOW = "move_one_stop"
PERSON_FIELDS = (
    "name", "kana", "sex", "relationship", "resident_type", "nationality", "name_alphabet",
    "alias", "alias_kana", "former_surname", "former_surname_kana", "resident_code",
)  # fmt: skip


def destination_choices() -> list[tuple[str, str]]:
    """Municipalities on the platform a resident of the one in force can move to."""
    here = current_lg_code()
    return [
        (lg_code, f"{prefecture} {name}")
        for lg_code, prefecture, name in Municipality.objects.filter(is_active=True)
        .exclude(lg_code=here)
        .order_by("lg_code")
        .values_list("lg_code", "prefecture", "name")
    ]


def outgoing_moves_of(*, atena_number: str) -> list[OutgoingMove]:
    """The one-step moves a resident is part of, newest first (the resident page)."""
    return list(OutgoingMove.objects.filter(persons__atena_number=atena_number).order_by("-id"))


def outgoing_move_of(*, atena_number: str, public_id: uuid.UUID | str) -> OutgoingMove | None:
    """One of the resident's one-step moves (None if it is not theirs or does not exist)."""
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        return None
    return OutgoingMove.objects.filter(public_id=key, persons__atena_number=atena_number).first()


def outgoing_movers_payload(*, move: OutgoingMove) -> dict[str, Any]:
    """The movers' data for the destination (origin side, in the relay). One audit entry
    per resident: a cross-municipality read, saying which flow and which destination."""
    numbers = list(move.persons.values_list("atena_number", flat=True))
    residents = {r.atena_number: r for r in Resident.objects.filter(atena_number__in=numbers)}
    persons, audits = [], []
    previous = ""
    for number in numbers:
        resident = residents.get(number)
        if resident is None:
            continue
        my_number = my_number_open(resident.my_number)
        person = {name: getattr(resident, name) for name in PERSON_FIELDS}
        person["birth_date"] = resident.birth_date.interchange
        person["my_number"] = my_number
        person["origin_atena_number"] = number
        persons.append(person)
        previous = previous or resident.address
        audits.append(
            AuditRecord(
                action="moves.relay.read",
                object_type="resident",
                object_id=number,
                function="moves:relay",
                purpose="転入予約（引越しワンストップ）",
                my_number_shown=bool(my_number),
                detail={
                    "flow": FLOW,
                    "destination": move.destination_lg_code,
                    "move": str(move.public_id),
                    "my_number_transferred": bool(my_number),
                },
            )
        )
    audit_append_many(records=audits)
    return {"persons": persons, "previous_address": previous}


def reservation_list(*, status: str = ReservationStatus.OPEN) -> QuerySet[MoveReservation]:
    """Reservations (no personal data: origin, date, number of persons)."""
    return MoveReservation.objects.filter(status=status).order_by("moving_on", "id")


def reservation_open(
    *,
    public_id: uuid.UUID | str,
    actor: Any,
    terminal: Terminal | None,
    function: str,
) -> tuple[MoveReservation, dict[str, Any]] | None:
    """A reservation with its movers' data for display (audited). The My Numbers are
    masked: they go into the register with the move in, never onto the screen."""
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        return None
    reservation = MoveReservation.objects.filter(public_id=key).first()
    if reservation is None:
        return None
    payload = unseal(reservation.sealed)
    audit_append(
        action="moves.reservation.read",
        actor=actor,
        object_type="move_reservation",
        object_id=str(reservation.public_id),
        function=function,
        terminal=terminal,
        detail={"flow": FLOW, "origin": reservation.origin_lg_code},
    )
    for person in payload["persons"]:
        person["has_my_number"] = bool(person.pop("my_number", ""))
    return reservation, payload


def reservation_notification(*, reservation: MoveReservation) -> dict[str, Any]:
    """What goes back to the origin with the 転入通知 (destination side, in the relay);
    the read is audited with the flow and the origin it goes to."""
    data = unseal(reservation.notification_sealed) if reservation.notification_sealed else {}
    audit_append(
        action="moves.relay.read",
        object_type="move_reservation",
        object_id=str(reservation.public_id),
        function="moves:relay",
        purpose="転入通知（引越しワンストップ）",
        detail={"flow": FLOW, "destination": reservation.origin_lg_code},
    )
    return data
