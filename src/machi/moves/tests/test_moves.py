"""引越しワンストップ end to end between the two test municipalities (real tenant
databases): move out at A with consent → relay → reservation at B → prefilled intake at
B → move in → relay → A's record finalised. Plus idempotency, refusals, isolation and
the audit of every cross-municipality read."""

from __future__ import annotations

import datetime
import json
import uuid

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from machi.accounts.roles import Role
from machi.audit.models import AuditEntry
from machi.counter.views.intake import SESSION_KEY
from machi.linkage.models import OutboxEvent
from machi.moves.models import (
    MoveReservation,
    OutgoingMove,
    OutgoingStatus,
    RelayCursor,
    ReservationStatus,
)
from machi.moves.relay import moves_relay
from machi.moves.sealing import unseal
from machi.registry.models import Resident, ResidentHistory, Status
from machi.registry.mynumber import my_number_open
from machi.registry.tests.conftest import person
from machi.tenancy.context import tenant_alias, tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

A, B = "131016", "271403"
MY_NUMBER = "123456789018"
HTMX = {"HTTP_HX_REQUEST": "true"}
B_ADDRESS = {
    "address-postal_code": "590-0078",
    "address-prefecture": "大阪府",
    "address-city": "堺市",
    "address-machiaza": "堺区南瓦町",
    "address-banchi": "3-1",
}
B_ADDRESS_TEXT = "大阪府堺市堺区南瓦町3-1"


@pytest.fixture
def shimin_a(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", Role.DEPARTMENT_STAFF), username="a-shimin")


@pytest.fixture
def clerk_b(make_staff, municipality_b):
    return make_staff(municipality_b, ("shimin", Role.COUNTER_CLERK), username="b-clerk")


@pytest.fixture
def family(move_in):
    """A household at A: the householder has a My Number."""
    return move_in(
        [
            person("髙橋 一郎", "タカハシ イチロウ", birth="昭和55年5月10日", my_number=MY_NUMBER),
            person("髙橋 花子", "タカハシ ハナコ", birth="1982-03-03", relationship="妻", sex="2"),
            person("髙橋 太郎", "タカハシ タロウ", birth="2015-07-07", relationship="子"),
        ]
    )


def move_out_post(**overrides) -> dict[str, str]:
    data = {
        "out-destination": B_ADDRESS_TEXT,
        "out-destination_lg_code": B,
        "out-consent": "on",
        "out-effective_on": "令和8年5月1日",
        "out-filed_on": timezone.localdate().isoformat(),
        "out-together": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def reservations_at_b() -> list[MoveReservation]:
    with tenant_context(B):
        return list(MoveReservation.objects.all())


def audits(lg_code: str, **filters) -> list[AuditEntry]:
    with tenant_context(lg_code):
        return list(AuditEntry.objects.filter(**filters).order_by("seq"))


def record_move_out(client, head: Resident, **overrides):
    return client.post(f"/{A}/residents/{head.atena_number}/move-out/", move_out_post(**overrides))


def newcomer_post(newcomers: list[dict]) -> dict[str, str]:
    data = {"count": str(len(newcomers)), "action": "next"}
    for i, newcomer in enumerate(newcomers):
        data.update({f"n{i}-{k}": v for k, v in newcomer.items()})
    return data


def test_one_step_move_end_to_end(family, shimin_a, clerk_b, signed_in):
    head = family[0]
    client_a, client_b = signed_in(shimin_a), signed_in(clerk_b)
    # Before the move out, nothing of A's residents is at B, and B's staff cannot read A.
    assert reservations_at_b() == []
    assert client_b.get(f"/{A}/residents/{head.atena_number}/").status_code == 403

    # 1. At A: the move out with the destination on the platform and the consent.
    form_page = client_a.get(f"/{A}/residents/{head.atena_number}/").content.decode()
    assert f'<option value="{B}">大阪府 堺市</option>' in form_page
    assert f'<option value="{A}"' not in form_page  # not to oneself
    response = record_move_out(client_a, head)
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_context(A):
        move = OutgoingMove.objects.get()
        assert move.status == OutgoingStatus.RECORDED
        assert move.destination_lg_code == B and move.destination_name == "堺市"
        assert move.consent_staff_username == "a-shimin" and move.consent_at is not None
        assert sorted(move.persons.values_list("atena_number", flat=True)) == sorted(
            r.atena_number for r in family
        )
        residents = Resident.objects.filter(pk__in=[r.pk for r in family])
        assert {r.status for r in residents} == {Status.MOVED_OUT}
        assert {r.destination_address for r in residents} == {B_ADDRESS_TEXT}
    assert reservations_at_b() == []  # nothing crosses before the relay runs

    # 2. The relay: A's move-out event → B's reservation; A's move is reserved.
    result = moves_relay(lg_code=A)
    assert result.reservations_sent == 1 and result.skipped == []
    (reservation,) = reservations_at_b()
    assert reservation.origin_lg_code == A and reservation.person_count == 3
    assert reservation.origin_name == "東京都 千代田区"
    assert reservation.consent_staff_username == "a-shimin"
    assert reservation.status == ReservationStatus.OPEN
    assert "髙橋" not in reservation.sealed and MY_NUMBER not in reservation.sealed
    payload = unseal(reservation.sealed)
    assert [p["name"] for p in payload["persons"]] == ["髙橋 一郎", "髙橋 花子", "髙橋 太郎"]
    assert payload["persons"][0]["my_number"] == MY_NUMBER
    assert payload["persons"][0]["birth_date"] == "1980-05-10"  # a date, not its writing
    assert payload["previous_address"] == head.address
    with tenant_context(B):
        (reserved,) = OutboxEvent.objects.filter(type="jp.machi.move.reserved")
        assert reserved.subject == str(reservation.public_id)
        assert set(reserved.data) == {"reservation_id", "origin_lg_code", "effective_date"}
        assert "髙橋" not in json.dumps(reserved.data, ensure_ascii=False)
    with tenant_context(A):
        move.refresh_from_db()
        assert move.status == OutgoingStatus.RESERVED
        assert move.reservation_id == str(reservation.public_id)
        # claimed by the first mover's move-out event: B's idempotency key
        first = OutboxEvent.objects.filter(type="jp.machi.resident.moved_out").order_by("seq")[0]
        assert move.origin_event_id == first.event_id == reservation.origin_event_id
    # The cross-municipality read at A: one entry per mover, flow and destination named.
    reads = audits(A, action="moves.relay.read")
    assert sorted(e.object_id for e in reads) == sorted(r.atena_number for r in family)
    assert {e.detail["destination"] for e in reads} == {B}
    assert {e.detail["flow"] for e in reads} == {"move_one_stop"}
    assert [e.my_number_shown for e in reads if e.object_id == head.atena_number] == [True]

    # Idempotent: a second run does nothing more.
    again = moves_relay(lg_code=A)
    assert again.reservations_sent == 0 and len(reservations_at_b()) == 1

    # 3. At B: the counter sees the reservation (list without names, detail audited).
    page = client_b.get(f"/{B}/counter/moves/").content.decode()
    assert "千代田区" in page and "髙橋" not in page
    assert f"/{B}/counter/moves/{reservation.public_id}/" in page
    page = client_b.get(f"/{B}/counter/moves/{reservation.public_id}/").content.decode()
    assert "髙橋 一郎" in page and "ハナコ" in page and MY_NUMBER not in page
    assert [e.actor_username for e in audits(B, action="moves.reservation.read")] == ["b-clerk"]
    # …and A's staff cannot open B's reservation screens.
    assert client_a.get(f"/{B}/counter/moves/").status_code == 403

    # The intake starts prefilled from the reservation.
    response = client_b.post(f"/{B}/counter/moves/{reservation.public_id}/intake/")
    assert response.status_code == 302 and response["Location"].endswith("?step=persons")
    draft = client_b.session[SESSION_KEY]
    assert draft["event"] == "move_in" and draft["date"] == "2026-05-01"
    assert draft["previous_address"] == head.address
    assert draft["reservation"] == str(reservation.public_id)
    page = client_b.get(response["Location"]).content.decode()
    assert 'value="髙橋 一郎"' in page and "タロウ" in page
    assert 'value="昭和55年5月10日"' in page

    # 4. The move in at B (persons as prefilled, questions answered, confirmed).
    newcomers = draft["newcomers"]
    response = client_b.post(f"/{B}/counter/intake/step/persons/", newcomer_post(newcomers), **HTMX)
    assert response.status_code == 200
    answers = {f"q-n{i}-insurance": "kokuho" for i in range(3)} | B_ADDRESS
    answers["address-previous_address"] = head.address
    answers["notifier-who"] = "n0"  # the 届出人 (h4-intake: step 3 asks who came)
    response = client_b.post(f"/{B}/counter/intake/step/questions/", answers, **HTMX)
    assert response.status_code == 200 and "この内容で確定する" in response.content.decode()
    response = client_b.post(f"/{B}/counter/intake/confirm/", **HTMX)
    assert response.status_code == 200 and "HX-Redirect" in response
    with tenant_context(B):
        reservation.refresh_from_db()
        assert reservation.status == ReservationStatus.COMPLETED
        assert reservation.completed_staff_username == "b-clerk"
        newcomers_b = Resident.objects.filter(atena_number__in=reservation.atena_numbers)
        assert {r.name for r in newcomers_b} == {"髙橋 一郎", "髙橋 花子", "髙橋 太郎"}
        assert {r.previous_address for r in newcomers_b} == {head.address}
        # the My Number came with the reservation, sealed in B's register
        moved_head = newcomers_b.get(name="髙橋 一郎")
        assert my_number_open(moved_head.my_number) == MY_NUMBER
        assert not newcomers_b.get(name="髙橋 花子").my_number
        (notified,) = OutboxEvent.objects.filter(type="jp.machi.move.notified")
        assert notified.subject == str(reservation.public_id)
        assert set(notified.data) == {"reservation_id", "origin_lg_code", "effective_date"}
    (completed,) = audits(B, action="moves.reservation.completed")
    assert completed.actor_username == "b-clerk" and completed.my_number_changed

    # 5. The relay at B: the notification back to A, A's record finalised.
    result = moves_relay(lg_code=B)
    assert result.notifications_sent == 1
    with tenant_context(A):
        move.refresh_from_db()
        assert move.status == OutgoingStatus.FINALISED and move.problem == ""
        assert move.moved_in_on.text == "令和8年5月1日"
        for resident in Resident.objects.filter(pk__in=[r.pk for r in family]):
            assert resident.status == Status.MOVED_OUT
            assert resident.destination_address == B_ADDRESS_TEXT
            changes = list(resident.history.values_list("change", flat=True))
            assert changes[-2:] == ["move_out", "move_out_confirm"]
        confirmed = OutboxEvent.objects.filter(type="jp.machi.resident.move_out_confirmed")
        assert confirmed.count() == 3
    (read_b,) = audits(B, action="moves.relay.read")
    assert read_b.detail == {"flow": "move_one_stop", "destination": A}
    assert len(audits(A, action="moves.outgoing.notified")) == 1

    # Idempotent on the way back too.
    assert moves_relay(lg_code=B).notifications_sent == 0
    with tenant_context(A):
        assert ResidentHistory.objects.filter(change="move_out_confirm").count() == 3

    # 6. A's staff see the state on the resident page.
    page = client_a.get(f"/{A}/residents/{head.atena_number}/").content.decode()
    assert "引越しワンストップ" in page and "転出確定" in page and "堺市" in page


def test_destination_not_on_the_platform_is_the_plain_move_out(family, shimin_a, signed_in):
    client = signed_in(shimin_a)
    response = record_move_out(
        client, family[0], **{"out-destination_lg_code": "", "out-consent": None}
    )
    assert response.status_code == 302
    with tenant_context(A):
        assert OutgoingMove.objects.count() == 0
        assert Resident.objects.get(pk=family[0].pk).status == Status.MOVED_OUT
    assert moves_relay(lg_code=A).reservations_sent == 0
    assert reservations_at_b() == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"out-consent": None}, "本人の同意を確認してください"),
        ({"out-to_abroad": "on"}, "国外への転出では自治体を選べません"),
        ({"out-destination_lg_code": A}, "候補にありません"),  # not to oneself
        ({"out-destination_lg_code": "011002"}, "候補にありません"),  # not on the platform
    ],
)
def test_refused_without_consent_or_a_valid_destination(
    family, shimin_a, signed_in, overrides, message
):
    response = record_move_out(signed_in(shimin_a), family[0], **overrides)
    assert response.status_code == 400
    assert message in response.content.decode()
    with tenant_context(A):
        assert OutgoingMove.objects.count() == 0
        assert {r.status for r in Resident.objects.filter(pk__in=[r.pk for r in family])} == {
            Status.RESIDENT
        }
    assert moves_relay(lg_code=A).reservations_sent == 0
    assert reservations_at_b() == []


def test_service_refuses_without_consent(family):
    from machi.moves.services import MoveError, outgoing_move_record
    from machi.registry.services import Filing

    with pytest.raises(MoveError, match="同意"):
        outgoing_move_record(
            residents=family,
            destination_lg_code=B,
            destination=B_ADDRESS_TEXT,
            filing=Filing(effective_on="2026-05-01"),
            consent=False,
        )
    with tenant_context(A):
        assert OutgoingMove.objects.count() == 0


def test_duplicate_events_make_one_reservation(family, shimin_a, signed_in):
    assert record_move_out(signed_in(shimin_a), family[0]).status_code == 302
    assert moves_relay(lg_code=A).reservations_sent == 1
    # the cursor is lost (or a second relay read the same events): still one reservation
    with tenant_context(A):
        RelayCursor.objects.update(last_seq=0)
        OutgoingMove.objects.update(status=OutgoingStatus.RECORDED)
    rerun = moves_relay(lg_code=A)
    assert rerun.events >= 3  # one moved_out event per mover was read again
    (reservation,) = reservations_at_b()
    with tenant_context(A):
        move = OutgoingMove.objects.get()
        assert move.status == OutgoingStatus.RESERVED
        assert move.reservation_id == str(reservation.public_id)
    with tenant_context(B):
        assert OutboxEvent.objects.filter(type="jp.machi.move.reserved").count() == 1


def test_cursor_moves_past_unrelated_events(family):
    result = moves_relay(lg_code=A)
    with tenant_context(A):
        top = OutboxEvent.objects.order_by("-seq").first().seq
        assert RelayCursor.objects.get().last_seq == top == result.cursor
    assert result.events == 0  # three moved_in events: nothing for the relay


def test_reservation_can_be_used_once(family, shimin_a, clerk_b, signed_in):
    from machi.counter.services.intake import IntakeError, life_event_confirm

    assert record_move_out(signed_in(shimin_a), family[0]).status_code == 302
    moves_relay(lg_code=A)
    (reservation,) = reservations_at_b()
    data = {
        "event": {"type": "move_in", "date": "2026-05-01", "subjects": ["p1"]},
        "persons": [
            {"id": "p1", "name": "髙橋 一郎", "kana": "タカハシ イチロウ", "sex": "1",
             "birth_date": "昭和55年5月10日", "relationship": "世帯主", "insurance": "kokuho"}
        ],
        "address": {"prefecture": "大阪府", "city": "堺市", "machiaza": "堺区南瓦町"},
        "reservation": str(reservation.public_id),
    }  # fmt: skip
    with tenant_context(B):
        life_event_confirm(data=data, actor=clerk_b, filed_on=datetime.date(2026, 5, 1))
        with pytest.raises(IntakeError, match="すでに処理"):
            life_event_confirm(data=data, actor=clerk_b)
        # a move within cannot complete a reservation
        with pytest.raises(IntakeError):
            life_event_confirm(
                data={**data, "event": {**data["event"], "type": "birth"}}, actor=clerk_b
            )
        assert Resident.objects.filter(name="髙橋 一郎").count() == 1


def test_relay_runs_after_commit_as_a_task(family, shimin_a, signed_in, settings,
                                           django_capture_on_commit_callbacks):  # fmt: skip
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    client = signed_in(shimin_a)
    with django_capture_on_commit_callbacks(execute=True, using=tenant_alias(A)) as callbacks:
        assert record_move_out(client, family[0]).status_code == 302
    assert callbacks  # the trigger was registered on A's commit…
    (reservation,) = reservations_at_b()  # …and the task ran the relay
    assert reservation.person_count == 3


def test_command_catches_up(family, shimin_a, signed_in):
    from io import StringIO

    from django.core.management import call_command

    assert record_move_out(signed_in(shimin_a), family[0]).status_code == 302
    out = StringIO()
    call_command("moves", "relay", stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    by_code = {line["lg_code"]: line for line in lines}
    assert by_code[A]["reservations_sent"] == 1
    assert len(reservations_at_b()) == 1


def test_other_roles_and_municipalities_are_refused(
    family, shimin_a, make_staff, municipality_b, signed_in
):
    assert record_move_out(signed_in(shimin_a), family[0]).status_code == 302
    moves_relay(lg_code=A)
    (reservation,) = reservations_at_b()
    admin_b = make_staff(municipality_b, ("shimin", Role.MUNICIPALITY_ADMIN))
    url = f"/{B}/counter/moves/{reservation.public_id}/"
    assert signed_in(admin_b).get(url).status_code == 403
    assert signed_in(shimin_a).get(url).status_code == 403
    assert audits(B, action="moves.reservation.read") == []


def test_unknown_reservation_is_404(clerk_b, signed_in):
    client = signed_in(clerk_b)
    assert client.get(f"/{B}/counter/moves/not-a-uuid/").status_code == 404
    assert (
        client.get(f"/{B}/counter/moves/00000000-0000-0000-0000-000000000000/").status_code == 404
    )


def test_finalise_problem_is_kept_for_staff(family, shimin_a, clerk_b, signed_in):
    """If A's record changed meanwhile, the move stays 'notified' with the reason."""
    from machi.moves.services import outgoing_move_finalise

    assert record_move_out(signed_in(shimin_a), family[0]).status_code == 302
    moves_relay(lg_code=A)
    with tenant_context(A):
        move = OutgoingMove.objects.get()
        Resident.objects.filter(pk=family[1].pk).update(status=Status.RESIDENT)
        outgoing_move_finalise(
            move_id=move.public_id,
            reservation_id=move.reservation_id,
            notification_event_id=move.origin_event_id,
            address=B_ADDRESS_TEXT,
            moved_in_on="2026-05-01",
        )
        move.refresh_from_db()
        assert move.status == OutgoingStatus.NOTIFIED and "転出の状態ではありません" in move.problem
        assert ResidentHistory.objects.filter(change="move_out_confirm").count() == 0


def test_receive_twice_records_once(family, shimin_a, signed_in):
    """Two relay runs delivering the same move (duplicate event): one reservation."""
    from machi.moves.selectors import outgoing_movers_payload
    from machi.moves.services import move_reservation_receive

    assert record_move_out(signed_in(shimin_a), family[0]).status_code == 302
    with tenant_context(A):
        move = OutgoingMove.objects.get()
        payload = outgoing_movers_payload(move=move)
    kwargs = dict(
        origin_lg_code=A, origin_name="東京都 千代田区", origin_event_id=uuid.uuid4(),
        origin_move_id=move.public_id, moving_on="2026-05-01", payload=payload,
        consent_at=move.consent_at, consent_staff_username="a-shimin",
    )  # fmt: skip
    with tenant_context(B):
        first, created = move_reservation_receive(**kwargs)
        again, created_again = move_reservation_receive(**kwargs)
        assert created and not created_again and first.pk == again.pk
        assert MoveReservation.objects.count() == 1
        assert AuditEntry.objects.filter(action="moves.reservation.received").count() == 1


def _intake_move_out(client, family, **questions):
    base = f"/{A}/counter/intake/"
    client.post(f"{base}step/event/", {"event": "move_out", "date": "令和8年5月1日"}, **HTMX)
    client.post(f"{base}household/", {"household": family[0].household.household_number}, **HTMX)
    subjects = [r.atena_number for r in family]
    response = client.post(f"{base}step/persons/", {"subjects": subjects}, **HTMX)
    assert "転出先" in response.content.decode()
    answers = {f"q-{n}-insurance": "kokuho" for n in subjects}
    answers.update(destination=B_ADDRESS_TEXT, destination_lg_code=B, consent="on")
    answers["notifier-who"] = subjects[0]  # the 届出人 (h4-intake: step 3 asks who came)
    answers.update(questions)
    return client.post(f"{base}step/questions/", {k: v for k, v in answers.items() if v}, **HTMX)


@pytest.fixture
def clerk_a(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", Role.COUNTER_CLERK), username="a-clerk")


def test_counter_intake_move_out_to_a_platform_municipality(family, clerk_a, signed_in):
    client = signed_in(clerk_a)
    response = _intake_move_out(client, family)
    page = response.content.decode()
    assert "この内容で確定する" in page, page
    response = client.post(f"/{A}/counter/intake/confirm/", **HTMX)
    assert "HX-Redirect" in response
    with tenant_context(A):
        move = OutgoingMove.objects.get()
        assert move.consent_staff_username == "a-clerk"
        assert move.persons.count() == 3
    assert moves_relay(lg_code=A).reservations_sent == 1
    (reservation,) = reservations_at_b()
    assert reservation.person_count == 3


def test_counter_intake_move_out_needs_consent(family, clerk_a, signed_in):
    from machi.counter.services.intake import IntakeError, life_event_confirm

    client = signed_in(clerk_a)
    response = _intake_move_out(client, family, consent="")
    page = response.content.decode()
    assert "本人の同意を確認してください" in page and "この内容で確定する" not in page
    # the service (and the life-events API) refuses too
    data = {
        "event": {"type": "move_out", "date": "2026-05-01", "subjects": ["p1"]},
        "persons": [{"id": "p1", "atena_number": family[0].atena_number, "insurance": "kokuho"}],
        "destination": B_ADDRESS_TEXT,
        "destination_lg_code": B,
    }
    with pytest.raises(IntakeError, match="同意"):
        life_event_confirm(data=data, actor=clerk_a)
    with tenant_context(A):
        assert OutgoingMove.objects.count() == 0
        assert Resident.objects.get(pk=family[0].pk).status == Status.RESIDENT


def test_nothing_personal_is_logged(family, shimin_a, signed_in, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    assert record_move_out(signed_in(shimin_a), family[0]).status_code == 302
    assert moves_relay(lg_code=A).reservations_sent == 1
    for secret in ("髙橋", "タカハシ", MY_NUMBER, "1980"):
        assert secret not in caplog.text


def test_reservation_list_queries_do_not_grow(
    move_in, shimin_a, clerk_b, signed_in, django_assert_max_num_queries
):
    client_a, client_b = signed_in(shimin_a), signed_in(clerk_b)
    counts = []
    for i in range(3):
        for j in range(2 if i else 1):
            (resident,) = move_in(
                [person(f"佐藤 {i}{j}", "サトウ", birth=f"19{70 + i}-01-0{j + 1}")]
            )
            assert record_move_out(client_a, resident).status_code == 302
        moves_relay(lg_code=A)
        with (
            django_assert_max_num_queries(20),
            CaptureQueriesContext(connections[tenant_alias(B)]) as tenant_queries,
        ):
            page = client_b.get(f"/{B}/counter/moves/").content.decode()
        counts.append(len(tenant_queries.captured_queries))
        assert page.count("予約を開く") == len(reservations_at_b())
    assert counts[0] == counts[-1] <= 6, counts
