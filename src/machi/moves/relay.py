"""The platform relay between municipalities (no table is shared between their databases).

``moves_relay(lg_code=X)`` reads X's outbox after X's own cursor (``RelayCursor``, in X's
database) — the same outbox the pull feed serves — and reacts:

* ``jp.machi.resident.moved_out`` that starts an ``OutgoingMove`` (X is the origin A):
  in A's context read the movers (audited, flow and destination named), in B's context
  create the ``MoveReservation`` (idempotent on A's event id) with B's
  ``jp.machi.move.reserved``, then in A's context mark the move reserved;
* ``jp.machi.move.notified`` (X is the destination B): in B's context read the
  notification (audited), in A's context finalise the outgoing move and its residents.

Every effect is idempotent and the cursor moves after each event, so running the relay
twice, concurrently, or after a crash gives the same result: nothing is lost, nothing is
done twice. Cross-database writes never share a transaction; no lock on one database is
held while writing another.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from machi.linkage.models import OutboxEvent
from machi.moves import selectors, services
from machi.moves.models import MoveReservation, OutgoingMove, OutgoingStatus, RelayCursor
from machi.tenancy.context import tenant_context
from machi.tenancy.models import Municipality

logger = logging.getLogger(__name__)

TYPES = (services.MOVED_OUT, services.NOTIFIED)
BATCH = 200


@dataclass
class RelayResult:
    lg_code: str
    cursor: int = 0
    events: int = 0
    reservations_sent: int = 0
    notifications_sent: int = 0
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "lg_code": self.lg_code,
            "cursor": self.cursor,
            "events": self.events,
            "reservations_sent": self.reservations_sent,
            "notifications_sent": self.notifications_sent,
            "skipped": self.skipped,
        }


def _cursor() -> int:
    row = RelayCursor.objects.filter(pk=1).values_list("last_seq", flat=True).first()
    if row is None:
        RelayCursor.objects.get_or_create(pk=1, defaults={"last_seq": 0})
        return 0
    return row


def _advance(seq: int) -> None:
    RelayCursor.objects.filter(pk=1, last_seq__lt=seq).update(last_seq=seq)


def moves_relay(*, lg_code: str) -> RelayResult:
    """Handle every new event of municipality ``lg_code`` the moves care about."""
    result = RelayResult(lg_code=lg_code)
    with tenant_context(lg_code):
        result.cursor = _cursor()
        while True:
            # The highest committed seq first: the events below it are all committed
            # (sequence numbers are handed out under a lock, in commit order).
            top = OutboxEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
            events = list(
                OutboxEvent.objects.filter(
                    seq__gt=result.cursor, seq__lte=top, type__in=TYPES
                ).order_by("seq")[:BATCH]
            )
            for event in events:
                _handle(lg_code, event, result)
                _advance(event.seq)
                result.cursor = event.seq
                result.events += 1
            if len(events) < BATCH:
                if top > result.cursor:
                    _advance(top)
                    result.cursor = top
                return result


def _handle(lg_code: str, event: OutboxEvent, result: RelayResult) -> None:
    if event.type == services.MOVED_OUT:
        move = _claim(event)
        if move is not None and move.status == OutgoingStatus.RECORDED:
            if _send_reservation(lg_code, move):
                result.reservations_sent += 1
            else:
                result.skipped.append(str(event.event_id))
    elif event.type == services.NOTIFIED:
        reservation = MoveReservation.objects.filter(
            public_id=event.data.get("reservation_id")
        ).first()
        if reservation is None:
            result.skipped.append(str(event.event_id))
            return
        if _send_notification(lg_code, reservation, event.event_id):
            result.notifications_sent += 1
        else:
            result.skipped.append(str(event.event_id))


def _claim(event: OutboxEvent) -> OutgoingMove | None:
    """The outgoing move this move-out event starts: the one it already claimed, or an
    unclaimed move of the same resident recorded before the event (the first mover's
    event claims it; the other movers' events find it claimed and are skipped)."""
    move = OutgoingMove.objects.filter(origin_event_id=event.event_id).first()
    if move is not None:
        return move
    candidate = (
        OutgoingMove.objects.filter(
            origin_event_id__isnull=True,
            status=OutgoingStatus.RECORDED,
            outbox_seq_floor__lt=event.seq,
            persons__atena_number=event.subject,
        )
        .order_by("id")
        .first()
    )
    if candidate is None:
        return None
    OutgoingMove.objects.filter(pk=candidate.pk, origin_event_id__isnull=True).update(
        origin_event_id=event.event_id
    )
    return OutgoingMove.objects.filter(pk=candidate.pk, origin_event_id=event.event_id).first()


def _send_reservation(origin: str, move: OutgoingMove) -> bool:
    """A's move → B's reservation → A's move reserved (in A's context on entry)."""
    destination = Municipality.objects.filter(
        lg_code=move.destination_lg_code, is_active=True
    ).first()
    here = Municipality.objects.filter(lg_code=origin).first()
    if destination is None or here is None:
        logger.warning(
            "moves relay: destination %s is not on the platform", move.destination_lg_code
        )
        return False
    payload = selectors.outgoing_movers_payload(move=move)
    if not payload["persons"]:
        return False
    with tenant_context(destination.lg_code):
        reservation, _created = services.move_reservation_receive(
            origin_lg_code=origin,
            origin_name=f"{here.prefecture} {here.name}",
            origin_event_id=move.origin_event_id,
            origin_move_id=move.public_id,
            moving_on=move.moving_on.interchange,
            payload=payload,
            consent_at=move.consent_at,
            consent_staff_username=move.consent_staff_username,
        )
    services.outgoing_move_mark_reserved(
        move_id=move.public_id, reservation_id=str(reservation.public_id)
    )
    return True


def _send_notification(here: str, reservation: MoveReservation, event_id: uuid.UUID) -> bool:
    """B's completed reservation → A's move finalised (in B's context on entry)."""
    if not Municipality.objects.filter(lg_code=reservation.origin_lg_code).exists():
        return False
    notification = selectors.reservation_notification(reservation=reservation)
    with tenant_context(reservation.origin_lg_code):
        move = services.outgoing_move_finalise(
            move_id=reservation.origin_move_id,
            reservation_id=str(reservation.public_id),
            notification_event_id=event_id,
            address=notification.get("address", ""),
            moved_in_on=reservation.moved_in_on,
        )
    return move is not None


def moves_relay_all() -> list[RelayResult]:
    """One pass over every active municipality (``machi moves relay`` without --tenant)."""
    results = []
    for lg_code in Municipality.objects.filter(is_active=True).values_list("lg_code", flat=True):
        try:
            results.append(moves_relay(lg_code=lg_code))
        except Exception:
            logger.exception("moves relay failed for %s; the next run catches up", lg_code)
    return results
