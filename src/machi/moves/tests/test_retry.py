"""「転出を確定し直す」: a one-step move stuck at 'notified' (A's registry refused the
転出確定 when B's 転入通知 came) is finished by A's staff, without B, with the address
and date the notification carried. Driven end to end between the two test
municipalities: move out at A → relay → move in at B from the reservation → relay →
refused at A → retried."""

from __future__ import annotations

import datetime

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from machi.accounts.roles import Role
from machi.audit.models import AuditEntry
from machi.counter.services.intake import life_event_confirm
from machi.linkage.models import OutboxEvent
from machi.moves.models import MoveReservation, OutgoingMove, OutgoingStatus
from machi.moves.relay import moves_relay
from machi.moves.services import MoveError, outgoing_move_finalise_retry
from machi.moves.tests.test_moves import B_ADDRESS_TEXT, A, B, record_move_out
from machi.registry.models import Resident, ResidentHistory, Status
from machi.tenancy.context import tenant_alias, tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

RETRY = "転出を確定し直す"
NOT_MOVED_OUT = "転出の状態ではありません"


def _set_status(resident: Resident, status: str) -> None:
    """Someone changed the record meanwhile (or put it right again)."""
    with tenant_context(A):
        Resident.objects.filter(pk=resident.pk).update(status=status)


def _move_in_at_b(clerk) -> None:
    with tenant_context(B):
        (reservation,) = MoveReservation.objects.all()
    data = {
        "event": {"type": "move_in", "date": "令和8年5月1日", "subjects": ["p1", "p2", "p3"]},
        "persons": [
            {"id": "p1", "name": "髙橋 一郎", "kana": "タカハシ イチロウ", "sex": "1",
             "birth_date": "昭和55年5月10日", "relationship": "世帯主", "insurance": "kokuho"},
            {"id": "p2", "name": "髙橋 花子", "kana": "タカハシ ハナコ", "sex": "2",
             "birth_date": "1982-03-03", "relationship": "妻", "insurance": "kokuho"},
            {"id": "p3", "name": "髙橋 太郎", "kana": "タカハシ タロウ", "sex": "1",
             "birth_date": "2015-07-07", "relationship": "子", "insurance": "kokuho"},
        ],
        "address": {"postal_code": "590-0078", "prefecture": "大阪府", "city": "堺市",
                    "machiaza": "堺区南瓦町", "banchi": "3-1"},
        "reservation": str(reservation.public_id),
    }  # fmt: skip
    with tenant_context(B):
        life_event_confirm(data=data, actor=clerk, filed_on=datetime.date(2026, 5, 1))


def _move() -> OutgoingMove:
    with tenant_context(A):
        return OutgoingMove.objects.get()


def _audits(**filters) -> list[AuditEntry]:
    with tenant_context(A):
        return list(AuditEntry.objects.filter(**filters).order_by("seq"))


def _confirmations() -> int:
    with tenant_context(A):
        return ResidentHistory.objects.filter(change="move_out_confirm").count()


@pytest.fixture
def stuck(family, shimin_a, clerk_b, signed_in):
    """A move out of the family to B whose 転出確定 A's registry refused: the wife's record
    was changed at A after the reservation was sent."""
    assert record_move_out(signed_in(shimin_a), family[0]).status_code == 302
    assert moves_relay(lg_code=A).reservations_sent == 1
    _set_status(family[1], Status.RESIDENT)
    _move_in_at_b(clerk_b)
    assert moves_relay(lg_code=B).notifications_sent == 1
    move = _move()
    assert move.status == OutgoingStatus.NOTIFIED and NOT_MOVED_OUT in move.problem
    assert family[1].atena_number in move.problem
    # what the notification said is kept for the retry
    assert move.confirmed_address == B_ADDRESS_TEXT
    assert move.moved_in_on.text == "令和8年5月1日"
    assert _confirmations() == 0
    return move


def test_retry_while_a_conflict_remains_keeps_the_move_notified(stuck, family, shimin_a):
    # The wife's record is put right, but now the child's record is the conflict.
    _set_status(family[1], Status.MOVED_OUT)
    _set_status(family[2], Status.RESIDENT)
    with tenant_context(A):
        move = outgoing_move_finalise_retry(move_id=stuck.public_id, actor=shimin_a)
    assert move.status == OutgoingStatus.NOTIFIED
    stored = _move()
    assert stored.status == OutgoingStatus.NOTIFIED and stored.finalised_at is None
    assert family[2].atena_number in stored.problem and family[1].atena_number not in (
        stored.problem
    )
    assert _confirmations() == 0  # nothing of the refused change was written
    (retried,) = _audits(action="moves.outgoing.retried")
    assert retried.actor_username == "a-shimin" and retried.function == "moves:retry"
    assert retried.object_id == str(stuck.public_id)
    assert retried.detail == {"flow": "move_one_stop", "finalised": False}


def test_retry_after_the_conflict_is_resolved_finalises(stuck, family, shimin_a):
    _set_status(family[1], Status.MOVED_OUT)
    with tenant_context(A):
        events_before = OutboxEvent.objects.filter(
            type="jp.machi.resident.move_out_confirmed"
        ).count()
        move = outgoing_move_finalise_retry(move_id=stuck.public_id, actor=shimin_a)
    assert move.status == OutgoingStatus.FINALISED and move.problem == ""
    stored = _move()
    assert stored.status == OutgoingStatus.FINALISED and stored.problem == ""
    assert stored.finalised_at is not None
    with tenant_context(A):
        residents = list(Resident.objects.filter(pk__in=[r.pk for r in family]))
        assert {r.status for r in residents} == {Status.MOVED_OUT}
        assert {r.destination_address for r in residents} == {B_ADDRESS_TEXT}
        confirmations = list(ResidentHistory.objects.filter(change="move_out_confirm"))
        assert len(confirmations) == 3
        assert {h.filing_kind for h in confirmations} == {"ex_officio"}
        assert {h.staff_username for h in confirmations} == {"a-shimin"}
        assert {h.effective_on.text for h in confirmations} == {"令和8年5月1日"}
        # the registry change emits its events, as when the relay finalises
        events = OutboxEvent.objects.filter(type="jp.machi.resident.move_out_confirmed")
        assert events.count() - events_before == 3
        assert sorted(e.subject for e in events) == sorted(r.atena_number for r in family)
    (retried,) = _audits(action="moves.outgoing.retried")
    assert retried.actor_username == "a-shimin"
    assert retried.detail == {"flow": "move_one_stop", "finalised": True}
    # the registry's own audit entries name the staff member and the function
    confirmed = _audits(function="moves:retry", object_type="resident")
    assert len(confirmed) == 3 and {e.actor_username for e in confirmed} == {"a-shimin"}

    # Idempotent: a finalised move is returned unchanged, nothing more is written.
    with tenant_context(A):
        again = outgoing_move_finalise_retry(move_id=stuck.public_id, actor=shimin_a)
    assert again.status == OutgoingStatus.FINALISED
    assert again.finalised_at == stored.finalised_at
    assert _confirmations() == 3
    assert len(_audits(action="moves.outgoing.retried")) == 1
    # …and so is a repeated 転入通知 from the relay.
    with tenant_context(B):
        assert moves_relay(lg_code=B).notifications_sent == 0
    assert _confirmations() == 3


def test_retry_refuses_a_move_not_notified(family, shimin_a, signed_in):
    assert record_move_out(signed_in(shimin_a), family[0]).status_code == 302
    moves_relay(lg_code=A)
    move = _move()
    assert move.status == OutgoingStatus.RESERVED
    with tenant_context(A), pytest.raises(MoveError, match="転入通知をまだ受信していない"):
        outgoing_move_finalise_retry(move_id=move.public_id, actor=shimin_a)
    assert _move().status == OutgoingStatus.RESERVED
    assert _audits(action="moves.outgoing.retried") == []
    with tenant_context(A), pytest.raises(MoveError, match="ありません"):
        outgoing_move_finalise_retry(move_id="00000000-0000-0000-0000-000000000000", actor=shimin_a)


def test_notified_move_without_a_stored_address_is_refused(stuck, family, shimin_a):
    """A move notified before the address was kept cannot be finished from the screen."""
    _set_status(family[1], Status.MOVED_OUT)
    with tenant_context(A):
        OutgoingMove.objects.update(confirmed_address="")
        with pytest.raises(MoveError, match="住所が記録されていない"):
            outgoing_move_finalise_retry(move_id=stuck.public_id, actor=shimin_a)
    assert _move().status == OutgoingStatus.NOTIFIED and _confirmations() == 0


# --- the staff action on the resident's page ----------------------------------------------


def _url(resident: Resident, move: OutgoingMove) -> str:
    return f"/{A}/residents/{resident.atena_number}/moves/{move.public_id}/retry/"


def _page(client, resident: Resident) -> str:
    response = client.get(f"/{A}/residents/{resident.atena_number}/")
    assert response.status_code == 200
    return response.content.decode()


def test_staff_retry_from_the_resident_page(
    stuck,
    family,
    shimin_a,
    signed_in,
    django_assert_max_num_queries,
):
    client = signed_in(shimin_a)
    head = family[0]
    page = _page(client, head)
    assert RETRY in page and f'action="{_url(head, stuck)}"' in page
    assert "csrfmiddlewaretoken" in page and B_ADDRESS_TEXT in page

    # Still in conflict: back on the page with the reason as an alert.
    response = client.post(_url(head, stuck))
    assert response.status_code == 302
    assert response["Location"] == f"/{A}/residents/{head.atena_number}/#moves-heading"
    page = _page(client, head)
    assert 'role="alert">転出を確定できませんでした。' in page
    assert family[1].atena_number in page and RETRY in page
    assert _move().status == OutgoingStatus.NOTIFIED

    # Put right: the retry finalises the move; the button is gone.
    _set_status(family[1], Status.MOVED_OUT)
    with (
        django_assert_max_num_queries(8),
        CaptureQueriesContext(connections[tenant_alias(A)]) as tenant_queries,
    ):
        response = client.post(_url(head, stuck))
    assert response.status_code == 302
    # 3 movers: 23 queries on SQLite (one UPDATE per mover, the rest in bulk)
    assert len(tenant_queries.captured_queries) <= 28, len(tenant_queries.captured_queries)
    page = _page(client, head)
    assert 'role="status">転出を確定しました。' in page
    assert RETRY not in page
    assert _move().status == OutgoingStatus.FINALISED
    # …and a second POST (a reload, a double click) changes nothing.
    assert client.post(_url(head, stuck)).status_code == 302
    assert 'role="status">転出を確定しました。' in _page(client, head)
    assert _confirmations() == 3
    # two retries audited (refused, finalised); the one on the finalised move wrote nothing
    assert [e.detail["finalised"] for e in _audits(action="moves.outgoing.retried")] == [
        False,
        True,
    ]


def test_button_only_for_a_stuck_move(family, shimin_a, signed_in):
    client = signed_in(shimin_a)
    head = family[0]
    assert record_move_out(client, head).status_code == 302
    moves_relay(lg_code=A)
    page = _page(client, head)
    assert "転出先で転入予約済み" in page and RETRY not in page
    # a POST for a move not yet notified is refused with the reason, nothing written
    response = client.post(_url(head, _move()))
    assert response.status_code == 302
    assert 'role="alert">転入通知をまだ受信していない' in _page(client, head)
    assert _move().status == OutgoingStatus.RESERVED


@pytest.mark.parametrize(
    "who",
    [
        ("shimin", Role.COUNTER_CLERK),  # sees the page, may not change records
        ("kosodate", Role.DEPARTMENT_STAFF),  # another department
        ("shimin", Role.MUNICIPALITY_ADMIN),  # no registry rights at all
    ],
)
def test_roles_without_registry_rights_are_refused(
    stuck,
    family,
    make_staff,
    municipality_a,
    signed_in,
    who,
):
    staff = make_staff(municipality_a, who)
    client = signed_in(staff)
    head = family[0]
    if who[1] == Role.COUNTER_CLERK:  # the clerk sees the state, not the button
        page = _page(client, head)
        assert "転入通知を受信（確認が必要）" in page and RETRY not in page
    _set_status(family[1], Status.MOVED_OUT)
    assert client.post(_url(head, stuck)).status_code == 403
    assert _move().status == OutgoingStatus.NOTIFIED
    assert _audits(action="moves.outgoing.retried") == [] and _confirmations() == 0


def test_other_municipality_and_anonymous_are_refused(
    stuck,
    family,
    make_staff,
    municipality_b,
    signed_in,
    client,
):
    _set_status(family[1], Status.MOVED_OUT)
    head = family[0]
    staff_b = make_staff(municipality_b, ("shimin", Role.DEPARTMENT_STAFF))
    assert signed_in(staff_b).post(_url(head, stuck)).status_code == 403
    # …nor at B's own address for A's move (B's database has no such move)
    url_at_b = f"/{B}/residents/{head.atena_number}/moves/{stuck.public_id}/retry/"
    assert signed_in(staff_b).post(url_at_b).status_code == 404
    response = client.post(_url(head, stuck))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert _move().status == OutgoingStatus.NOTIFIED and _confirmations() == 0


def test_move_of_another_resident_or_unknown_is_404(
    stuck,
    family,
    move_in,
    shimin_a,
    signed_in,
):
    from machi.registry.tests.conftest import person

    (other,) = move_in([person("佐藤 次郎", "サトウ ジロウ", birth="1990-01-01")])
    client = signed_in(shimin_a)
    assert client.post(_url(other, stuck)).status_code == 404
    bad = f"/{A}/residents/{family[0].atena_number}/moves/not-a-uuid/retry/"
    assert client.post(bad).status_code == 404
    assert client.get(_url(family[0], stuck)).status_code == 405
    assert _move().status == OutgoingStatus.NOTIFIED
