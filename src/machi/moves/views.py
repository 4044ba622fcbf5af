"""The destination's counter: open 転入予約 and the intake started from one; at the
origin, 「転出を確定し直す」 for a move stuck at 'notified'.

Who may use them: the staff who may run the intake (counter clerks, supervisors, the
resident-records department). Opening a reservation is an audited read; starting the
intake puts its persons into the intake draft (the counter's session), and recording
the move in completes the reservation (``machi.counter.services.intake``). Retrying a
move's 転出確定 is a change of the residents' records: only for those who may record a
move out (the resident-records department, as ``registry.views.move_out``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from machi.audit.services import Terminal
from machi.counter.views.intake import SESSION_KEY, _new_draft, intake_role_required
from machi.japanese import DateParseError, JapaneseDate, parse_date
from machi.japanese.dates import canonical_date
from machi.moves import selectors, services
from machi.moves.models import OutgoingStatus, ReservationStatus
from machi.registry import selectors as registry_selectors
from machi.registry.views import working_role_required

RECENT = 20


def _open(request: HttpRequest, reservation_id: str) -> tuple[Any, dict[str, Any]]:
    found = selectors.reservation_open(
        public_id=reservation_id,
        actor=request.user,
        terminal=Terminal.from_request(request),
        function="counter:moves",
    )
    if found is None:
        raise Http404(_("この転入予約はありません。"))
    return found


@require_GET
@never_cache
@intake_role_required
def reservations(request: HttpRequest, lg_code: str) -> HttpResponse:
    """Open reservations (no personal data on the list: origin, date, number of persons)."""
    return render(
        request,
        "moves/reservations.html",
        {
            "open": list(selectors.reservation_list()),
            "completed": list(
                selectors.reservation_list(status=ReservationStatus.COMPLETED)[:RECENT]
            ),
        },
    )


@require_GET
@never_cache
@intake_role_required
def reservation(request: HttpRequest, lg_code: str, reservation_id: str) -> HttpResponse:
    """One reservation with its movers (an audited read)."""
    found, payload = _open(request, reservation_id)
    persons = [{**person, "birth_day": _register_date(person.get("birth_date"))}
               for person in payload.get("persons", [])]  # fmt: skip
    return render(
        request,
        "moves/reservation.html",
        {"reservation": found, "payload": {**payload, "persons": persons}},
    )


def _register_date(text: Any) -> JapaneseDate | None:
    """A mover's birth date as the origin's register wrote it (the relay carries the text,
    不詳 forms included), read back so the page shows it as every date is shown."""
    try:
        return parse_date(text) if isinstance(text, str) and text.strip() else None
    except DateParseError:
        return None


def _written(value: Any) -> str:
    day = _register_date(value)
    return canonical_date(day).text if day is not None else str(value or "")


def _newcomer(person: dict[str, Any]) -> dict[str, str]:
    foreign = person.get("resident_type") == "2"
    return {
        "name": person.get("name", ""),
        "kana": person.get("kana", ""),
        "sex": person.get("sex", ""),
        # The clerk checks the date in the one written form (昭和55年5月10日), not ISO.
        "birth_date": _written(person.get("birth_date")),
        "relationship": person.get("relationship", ""),
        "nationality": "other" if foreign else "JP",
        "nationality_name": person.get("nationality", "") if foreign else "",
    }


@require_POST
@never_cache
@intake_role_required
def reservation_intake(request: HttpRequest, lg_code: str, reservation_id: str) -> HttpResponse:
    """「この予約で転入を受け付ける」: the intake starts at step 2, prefilled (転入, date,
    persons, previous address); the move in completes the reservation."""
    found, payload = _open(request, reservation_id)
    if found.status != ReservationStatus.OPEN:
        messages.error(request, _("この転入予約はすでに処理されています。"))
        return redirect("moves:reservation", lg_code=lg_code, reservation_id=reservation_id)
    previous = request.session.get(SESSION_KEY)
    ticket = previous.get("ticket") if isinstance(previous, dict) else None
    draft = _new_draft(ticket=ticket)
    draft.update(
        event="move_in",
        date=found.moving_on.text,
        newcomers=[_newcomer(p) for p in payload["persons"]],
        previous_address=payload.get("previous_address", ""),
        reservation=str(found.public_id),
        reservation_origin=found.origin_name,
        done=["event"],
    )
    request.session[SESSION_KEY] = draft
    messages.success(
        request,
        _("%(origin)s からの転入予約（%(count)s 人）を読み込みました。内容を確認してください。")
        % {"origin": found.origin_name, "count": found.person_count},
    )
    return redirect(reverse("counter:intake", args=[lg_code]) + "?step=persons")


@require_POST
@never_cache
@working_role_required
def outgoing_retry(
    request: HttpRequest, lg_code: str, atena_number: str, move_id: str
) -> HttpResponse:
    """「転出を確定し直す」: the 転出確定 of a move stuck at 'notified', with the address
    and date of the 転入通知; back on the resident's page with the outcome."""
    if not registry_selectors.staff_may_change_records(request.user):
        raise PermissionDenied(_("住民記録を変更する権限がありません。"))
    move = selectors.outgoing_move_of(atena_number=atena_number, public_id=move_id)
    if move is None:
        raise Http404(_("この転出（引越しワンストップ）はありません。"))
    try:
        move = services.outgoing_move_finalise_retry(
            move_id=move.public_id, actor=request.user, terminal=Terminal.from_request(request)
        )
    except services.MoveError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if move.status == OutgoingStatus.FINALISED:
            messages.success(request, _("転出を確定しました。"))
        else:
            messages.error(
                request,
                _("転出を確定できませんでした。%(reason)s") % {"reason": move.problem},
            )
    url = reverse("registry:resident", args=[lg_code, atena_number])
    return redirect(url + "#moves-heading")
