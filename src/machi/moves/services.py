"""Every write of the one-step move (引越しワンストップ), on either side.

Origin (A): ``outgoing_move_record`` (the move out and the outgoing move, one
transaction), ``outgoing_move_mark_reserved``, ``outgoing_move_finalise`` (and, by
staff, ``outgoing_move_finalise_retry``).
Destination (B): ``move_reservation_receive`` (from the relay), ``move_reservation_take``
and ``move_reservation_complete`` (inside the counter intake's transaction).

Each function works in the municipality in force; the relay (``machi.moves.relay``)
switches between the two. Events are thin (ids only); personal data crosses only
sealed, through the relay, and every read of it is audited.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from machi.audit.services import AuditRecord, Terminal, audit_append
from machi.japanese import JapaneseDate, parse_date
from machi.linkage.models import OutboxSequence
from machi.linkage.services import NewEvent, outbox_append
from machi.moves.models import (
    MoveReservation,
    OutgoingMove,
    OutgoingMovePerson,
    OutgoingStatus,
    ReservationStatus,
)
from machi.moves.sealing import seal, unseal
from machi.registry import services as registry
from machi.registry.models import FilingKind, Resident
from machi.tenancy.context import current_lg_code, current_tenant_alias
from machi.tenancy.models import Municipality

logger = logging.getLogger(__name__)

MOVED_OUT = "jp.machi.resident.moved_out"
RESERVED = "jp.machi.move.reserved"
NOTIFIED = "jp.machi.move.notified"
FLOW = "move_one_stop"


class MoveError(ValidationError):
    """A one-step move was refused; the message says why (nothing was written)."""


def _atomic() -> Any:
    return transaction.atomic(using=current_tenant_alias())


def relay_trigger(lg_code: str) -> None:
    """Ask the worker to run the relay of ``lg_code`` soon. A lost trigger loses nothing:
    the next run (or ``machi moves relay``) catches up from the cursor."""
    from machi.moves.tasks import moves_relay_task

    try:
        moves_relay_task.enqueue(lg_code)
    except Exception:  # the change is committed; the relay will catch up
        logger.warning("moves relay trigger for %s could not be enqueued", lg_code, exc_info=True)


def _on_commit_relay(lg_code: str) -> None:
    transaction.on_commit(partial(relay_trigger, lg_code), using=current_tenant_alias())


def destination_get(*, lg_code: str) -> Municipality | None:
    """A municipality on the platform that can receive a move from the one in force."""
    if not lg_code or lg_code == current_lg_code():
        return None
    return Municipality.objects.filter(lg_code=lg_code, is_active=True).first()


# --- origin (A) -----------------------------------------------------------------------------


def outgoing_move_record(
    *,
    residents: list[Resident],
    destination_lg_code: str,
    destination: str,
    filing: registry.Filing,
    consent: bool,
) -> OutgoingMove:
    """転出 to a municipality on the platform: the registry's move out and the outgoing
    move (with the resident's consent: who confirmed it, when) in one transaction. After
    commit the relay sends the reservation to the destination."""
    if not consent:
        raise MoveError(
            "転出先の自治体へ転入予約を送るには、本人の同意を確認して記録してください。"
        )
    target = destination_get(lg_code=destination_lg_code)
    if target is None:
        raise MoveError(f"転出先の自治体 {destination_lg_code} はこの基盤にありません。")
    if not residents:
        raise MoveError("転出する人がいません。")
    with _atomic(), registry.filing_batch() as batch:
        # The move-out events come after this sequence number (now or, inside a filing
        # batch, when it is written): the relay claims the move from the first of them.
        floor = OutboxSequence.objects.filter(pk=1).values_list("last_seq", flat=True).first()
        registry.resident_move_out(residents=residents, destination=destination, filing=filing)
        actor = filing.actor
        move = OutgoingMove.objects.create(
            destination_lg_code=target.lg_code,
            destination_name=target.name,
            destination_address=destination,
            moving_on=filing.effective,
            outbox_seq_floor=floor or 0,
            consent_staff_id=getattr(actor, "pk", None),
            consent_staff_username=getattr(actor, "username", "") or "",
            consent_at=timezone.now(),
        )
        OutgoingMovePerson.objects.bulk_create(
            OutgoingMovePerson(move=move, atena_number=r.atena_number) for r in residents
        )
        batch.audits.append(
            AuditRecord(
                action="moves.outgoing.recorded",
                actor=actor,
                object_type="outgoing_move",
                object_id=str(move.public_id),
                function=filing.function,
                terminal=filing.terminal,
                detail={
                    "flow": FLOW,
                    "destination": target.lg_code,
                    "consent": True,
                    "residents": [r.atena_number for r in residents],
                },
            )
        )
        _on_commit_relay(current_lg_code())
    return move


def outgoing_move_mark_reserved(*, move_id: uuid.UUID, reservation_id: str) -> bool:
    """The destination holds the reservation (only from 送信待ち; idempotent)."""
    with _atomic():
        changed = OutgoingMove.objects.filter(
            public_id=move_id, status=OutgoingStatus.RECORDED
        ).update(
            status=OutgoingStatus.RESERVED,
            reservation_id=reservation_id,
            reserved_at=timezone.now(),
        )
        if changed:
            audit_append(
                action="moves.outgoing.reserved",
                object_type="outgoing_move",
                object_id=str(move_id),
                function="moves:relay",
                detail={"flow": FLOW, "reservation": reservation_id},
            )
    return bool(changed)


def outgoing_move_finalise(
    *,
    move_id: uuid.UUID,
    reservation_id: str,
    notification_event_id: uuid.UUID,
    address: str,
    moved_in_on: JapaneseDate | str,
) -> OutgoingMove | None:
    """転入通知 received: the outgoing move is notified and its residents are finalised as
    moved out to the confirmed address (転出確定). Idempotent. If the registry refuses
    (someone changed a record meanwhile) the move stays 'notified' with the reason, and
    the notification's address and date are kept for staff to retry."""
    with _atomic():
        move = OutgoingMove.objects.select_for_update().filter(public_id=move_id).first()
        if move is None or move.status == OutgoingStatus.FINALISED:
            return move
        if move.notification_event_id not in (None, notification_event_id):
            return move
        move.status = OutgoingStatus.NOTIFIED
        move.notified_at = move.notified_at or timezone.now()
        move.notification_event_id = notification_event_id
        move.reservation_id = move.reservation_id or reservation_id
        move.moved_in_on = moved_in_on
        move.confirmed_address = address
        _confirm_move_out(
            move,
            filing=registry.Filing(
                effective_on=moved_in_on,
                filed_on=timezone.localdate(),
                filing_kind=FilingKind.EX_OFFICIO,
                function="moves:relay",
            ),
        )
        audit_append(
            action="moves.outgoing.notified",
            object_type="outgoing_move",
            object_id=str(move.public_id),
            function="moves:relay",
            detail={
                "flow": FLOW,
                "reservation": reservation_id,
                "finalised": move.status == OutgoingStatus.FINALISED,
            },
        )
    return move


def outgoing_move_finalise_retry(
    *, move_id: uuid.UUID | str, actor: Any, terminal: Terminal | None = None
) -> OutgoingMove:
    """「転出を確定し直す」: staff finish a move stuck at 'notified' (the registry refused
    the 転出確定 when the 転入通知 came) with the address and date the notification
    carried, once the conflicting record is put right. On success the move is finalised
    and its problem cleared; on refusal it stays 'notified' with the new reason. Audited
    either way; a finalised move is returned unchanged (idempotent)."""
    with _atomic():
        move = OutgoingMove.objects.select_for_update().filter(public_id=move_id).first()
        if move is None:
            raise MoveError("この転出（引越しワンストップ）はありません。")
        if move.status == OutgoingStatus.FINALISED:
            return move
        if move.status != OutgoingStatus.NOTIFIED:
            raise MoveError("転入通知をまだ受信していないため、転出を確定できません。")
        if not move.confirmed_address or move.moved_in_on is None:
            raise MoveError("転入通知の住所が記録されていないため、この画面からは確定できません。")
        _confirm_move_out(
            move,
            filing=registry.Filing(
                effective_on=move.moved_in_on,
                filed_on=timezone.localdate(),
                filing_kind=FilingKind.EX_OFFICIO,
                actor=actor,
                terminal=terminal,
                function="moves:retry",
            ),
        )
        audit_append(
            action="moves.outgoing.retried",
            actor=actor,
            object_type="outgoing_move",
            object_id=str(move.public_id),
            function="moves:retry",
            terminal=terminal,
            detail={"flow": FLOW, "finalised": move.status == OutgoingStatus.FINALISED},
        )
    return move


def _confirm_move_out(move: OutgoingMove, *, filing: registry.Filing) -> None:
    """The registry's 転出確定 of the move's residents to ``move.confirmed_address``, in
    a savepoint: on success the move is finalised, on refusal it keeps the reason in
    ``problem`` (nothing of the registry change is written). Saves the move."""
    numbers = list(move.persons.values_list("atena_number", flat=True))
    residents = list(Resident.objects.select_related("household").filter(
        atena_number__in=numbers
    ))  # fmt: skip
    try:
        with transaction.atomic(using=current_tenant_alias()):
            registry.resident_move_out_confirm(
                residents=residents, destination=move.confirmed_address, filing=filing
            )
    except ValidationError as error:
        move.problem = " ".join(error.messages)[:500]
    else:
        move.status = OutgoingStatus.FINALISED
        move.finalised_at = timezone.now()
        move.problem = ""
    move.save()


# --- destination (B) ------------------------------------------------------------------------


def move_reservation_receive(
    *,
    origin_lg_code: str,
    origin_name: str,
    origin_event_id: uuid.UUID,
    origin_move_id: uuid.UUID,
    moving_on: str,
    payload: dict[str, Any],
    consent_at: datetime,
    consent_staff_username: str,
) -> tuple[MoveReservation, bool]:
    """A 転入予約 from the origin (called by the relay in the destination's context).
    Idempotent on the origin's event: (reservation, created)."""
    existing = MoveReservation.objects.filter(
        origin_lg_code=origin_lg_code, origin_event_id=origin_event_id
    ).first()
    if existing is not None:
        return existing, False
    try:
        return _reservation_create(
            origin_lg_code=origin_lg_code, origin_name=origin_name,
            origin_event_id=origin_event_id, origin_move_id=origin_move_id,
            moving_on=moving_on, payload=payload, consent_at=consent_at,
            consent_staff_username=consent_staff_username,
        ), True  # fmt: skip
    except IntegrityError:  # another relay run recorded it a moment ago
        existing = MoveReservation.objects.get(
            origin_lg_code=origin_lg_code, origin_event_id=origin_event_id
        )
        return existing, False


def _reservation_create(
    *,
    origin_lg_code: str,
    origin_name: str,
    origin_event_id: uuid.UUID,
    origin_move_id: uuid.UUID,
    moving_on: str,
    payload: dict[str, Any],
    consent_at: datetime,
    consent_staff_username: str,
) -> MoveReservation:
    with _atomic():
        reservation = MoveReservation.objects.create(
            origin_lg_code=origin_lg_code,
            origin_name=origin_name,
            origin_event_id=origin_event_id,
            origin_move_id=origin_move_id,
            moving_on=parse_date(moving_on),
            person_count=len(payload["persons"]),
            sealed=seal(payload),
            consent_at=consent_at,
            consent_staff_username=consent_staff_username,
        )
        outbox_append(
            type=RESERVED,
            subject=str(reservation.public_id),
            data={
                "reservation_id": str(reservation.public_id),
                "origin_lg_code": origin_lg_code,
                "effective_date": reservation.moving_on.interchange,
            },
        )
        audit_append(
            action="moves.reservation.received",
            object_type="move_reservation",
            object_id=str(reservation.public_id),
            function="moves:relay",
            detail={"flow": FLOW, "origin": origin_lg_code, "persons": len(payload["persons"])},
        )
    return reservation


def _same_day(text: Any) -> tuple[Any, ...] | None:
    """A birth date as its parts, so 昭和57年3月3日 typed at the counter matches the
    origin's 1982-03-03: dates are compared, never the way they were written."""
    try:
        day = parse_date(str(text or ""))
    except ValueError:
        return None
    return (day.approx, day.month, day.day, day.circa, day.non_calendar)


def move_reservation_take(
    *, reference: str, event_type: str, persons: list[Any]
) -> MoveReservation:
    """Inside the intake's transaction: lock the open reservation ``reference`` and carry
    the My Numbers of its persons to the newcomers that are unchanged (same name and
    birth date). ``persons`` are the intake's persons (``.data`` dicts, ``.resident``)."""
    if event_type != "move_in":
        raise MoveError("転入予約からは転入だけを記録できます。")
    try:
        public_id = uuid.UUID(str(reference))
    except ValueError:
        raise MoveError("転入予約の番号が正しくありません。") from None
    reservation = (
        MoveReservation.objects.select_for_update()
        .filter(public_id=public_id, status=ReservationStatus.OPEN)
        .first()
    )
    if reservation is None:
        raise MoveError("この転入予約はないか、すでに処理されています。")
    carried = {
        (p["name"], _same_day(p["birth_date"])): p.get("my_number", "")
        for p in unseal(reservation.sealed)["persons"]
    }
    carried_count = 0
    for person in persons:
        if person.resident is not None or person.data.get("my_number"):
            continue
        number = carried.get((person.data.get("name"), _same_day(person.data.get("birth_date"))))
        if number:
            person.data = {**person.data, "my_number": number}
            carried_count += 1
    reservation.my_numbers_carried = carried_count
    return reservation


def move_reservation_complete(
    *,
    reservation: MoveReservation,
    atena_numbers: list[str],
    address: str,
    moved_in_on: JapaneseDate,
    visit_code: str,
    actor: Any,
    terminal: Terminal | None = None,
) -> MoveReservation:
    """The move in from the reservation is recorded (same transaction as the intake):
    the reservation is completed and ``jp.machi.move.notified`` appended."""
    with _atomic(), registry.filing_batch() as batch:  # joins the intake's batch
        reservation.status = ReservationStatus.COMPLETED
        reservation.completed_at = timezone.now()
        reservation.completed_staff_username = getattr(actor, "username", "") or ""
        reservation.atena_numbers = list(atena_numbers)
        reservation.visit_code = visit_code
        reservation.moved_in_on = moved_in_on
        reservation.notification_sealed = seal({"address": address})
        reservation.save()
        batch.events.append(
            NewEvent(
                type=NOTIFIED,
                subject=str(reservation.public_id),
                data={
                    "reservation_id": str(reservation.public_id),
                    "origin_lg_code": reservation.origin_lg_code,
                    "effective_date": moved_in_on.interchange,
                },
            )
        )
        batch.audits.append(
            AuditRecord(
                action="moves.reservation.completed",
                actor=actor,
                object_type="move_reservation",
                object_id=str(reservation.public_id),
                function="counter:intake",
                terminal=terminal,
                my_number_changed=bool(getattr(reservation, "my_numbers_carried", 0)),
                detail={
                    "flow": FLOW,
                    "origin": reservation.origin_lg_code,
                    "residents": atena_numbers,
                },
            )
        )
        _on_commit_relay(current_lg_code())
    return reservation
