"""Life-event intake end to end: registry change, procedures, tasks and events in one
transaction (issue 5, item 4)."""

from __future__ import annotations

import json

import pytest

from machi.audit.models import AuditEntry
from machi.counter.models import Task, Visit
from machi.counter.services.intake import IntakeError, life_event_confirm
from machi.linkage.models import OutboxEvent
from machi.registry.models import Resident
from machi.registry.tests.conftest import person
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

ADDRESS = {
    "postal_code": "100-0001", "prefecture": "東京都", "city": "千代田区",
    "machiaza": "千代田", "banchi": "1-1",
}  # fmt: skip


def _adult(pid, name, kana, birth, relationship, **extra):
    return {
        "id": pid, "name": name, "kana": kana, "sex": extra.pop("sex", "1"),
        "birth_date": birth, "relationship": relationship, "insurance": "kokuho", **extra,
    }  # fmt: skip


def move_in_family(date="2026-04-03"):
    return {
        "event": {"type": "move_in", "date": date, "subjects": ["p1", "p2", "p3"]},
        "persons": [
            _adult("p1", "髙橋 一郎", "タカハシ イチロウ", "1985-06-15", "世帯主"),
            _adult("p2", "髙橋 花子", "タカハシ ハナコ", "昭和62年2月1日", "妻", sex="2"),
            _adult("p3", "髙橋 陽太", "タカハシ ヨウタ", "2018-01-10", "子", insurance="kokuho"),
        ],
        "answers": {"has_dog": True},
        "address": dict(ADDRESS),
        "previous_address": "大阪府堺市堺区南瓦町3-1",
    }


@pytest.fixture
def clerk(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "counter_clerk"), username="intake-clerk")


def test_move_in_household_end_to_end(clerk):
    with tenant_context("131016"):
        events_before = OutboxEvent.objects.count()
        result = life_event_confirm(data=move_in_family(), actor=clerk)
        residents = Resident.objects.filter(atena_number__in=result.atena_numbers.values())
        assert {r.name for r in residents} == {"髙橋 一郎", "髙橋 花子", "髙橋 陽太"}
        assert len({r.household_id for r in residents}) == 1
        codes = [(p["code"], p["person"]) for p in result.procedures]
        assert ("juki.move_in", "p3") in codes
        assert ("kokuho.enroll", "p1") in codes and ("kokuho.enroll", "p2") in codes
        assert ("school.transfer_in", "p3") in codes
        assert ("dog.transfer_in", None) in codes
        tasks = Task.objects.filter(visit=result.visit)
        assert tasks.count() == len(result.procedures)
        assert {t.department for t in tasks} >= {"shimin", "hoken_nenkin", "kyoiku", "kankyo"}
        child_task = tasks.get(procedure_code="school.transfer_in")
        assert child_task.person_atena == result.atena_numbers["p3"]
        types = list(
            OutboxEvent.objects.filter(seq__gt=events_before).values_list("type", flat=True)
        )
        assert types.count("jp.machi.resident.moved_in") == 3
        assert types.count("jp.machi.task.created") == len(result.procedures)
        visit = Visit.objects.get(pk=result.visit.pk)
        assert visit.status == "open" and visit.event_type == "move_in"
        assert "髙橋" not in json.dumps(visit.navigator_input, ensure_ascii=False)


def test_failure_writes_nothing(clerk):
    data = move_in_family()
    data["persons"][2]["relationship"] = "子の猫"
    with tenant_context("131016"):
        before = (Resident.objects.count(), Visit.objects.count(), OutboxEvent.objects.count())
        with pytest.raises(IntakeError, match=r"persons\[2\].relationship"):
            life_event_confirm(data=data, actor=clerk)
        data = move_in_family()
        del data["address"]["machiaza"]
        with pytest.raises(IntakeError, match=r"address\.machiaza"):
            life_event_confirm(data=data, actor=clerk)
        data = move_in_family(date="令和8年2月30日")
        with pytest.raises(IntakeError, match=r"event\.date"):
            life_event_confirm(data=data, actor=clerk)
        after = (Resident.objects.count(), Visit.objects.count(), OutboxEvent.objects.count())
    assert before == after


@pytest.fixture
def family(move_in):
    return move_in(
        [
            person("鈴木 太郎", "スズキ タロウ", birth="1950-05-01", kokuho=True),
            person("鈴木 花子", "スズキ ハナコ", birth="1955-07-07", relationship="妻", sex="2",
                   kokuho=True),
            person("鈴木 次郎", "スズキ ジロウ", birth="1990-01-01", relationship="子"),
        ]
    )  # fmt: skip


def _existing(resident, pid, **extra):
    return {"id": pid, "atena_number": resident.atena_number, **extra}


@pytest.mark.parametrize(
    ("event", "subjects", "extra", "status_after", "event_type"),
    [
        ("move_within", ["p1", "p2"], {"address": ADDRESS | {"machiaza": "丸の内"}}, "1",
         "jp.machi.resident.moved_within"),
        ("move_out", ["p3"], {"destination": "大阪府堺市堺区南瓦町3-1"}, "2",
         "jp.machi.resident.moved_out"),
        ("death", ["p2"], {}, "3", "jp.machi.resident.died"),
    ],
)  # fmt: skip
def test_events_on_existing_residents(family, clerk, event, subjects, extra, status_after,
                                      event_type):  # fmt: skip
    head, wife, son = family
    data = {
        "event": {"type": event, "date": "2026-05-01", "subjects": subjects},
        "persons": [
            _existing(head, "p1"), _existing(wife, "p2"),
            _existing(son, "p3", insurance="employee"),
        ],
        "answers": {},
        **extra,
    }  # fmt: skip
    result = life_event_confirm(data=data, actor=clerk)
    by_pid = {"p1": head, "p2": wife, "p3": son}
    for pid in subjects:
        resident = Resident.objects.get(pk=by_pid[pid].pk)
        assert resident.status == status_after
        assert OutboxEvent.objects.filter(subject=resident.atena_number, type=event_type).exists()
    assert Task.objects.filter(visit=result.visit).count() == len(result.procedures) > 0
    if event == "death":
        assert ("kokuho.funeral_benefit", "p2") in [
            (p["code"], p["person"]) for p in result.procedures
        ]


def test_birth_joins_the_household(family, clerk):
    head, wife, _ = family
    data = {
        "event": {"type": "birth", "date": "2026-04-20", "subjects": ["baby"]},
        "persons": [
            _existing(head, "p1"), _existing(wife, "p2"),
            {"id": "baby", "name": "鈴木 陽", "kana": "スズキ ハル", "sex": "1",
             "birth_date": "2026-04-20", "relationship": "子", "insurance": "kokuho"},
        ],
    }  # fmt: skip
    result = life_event_confirm(data=data, actor=clerk)
    baby = Resident.objects.get(atena_number=result.atena_numbers["baby"])
    assert baby.household_id == head.household_id
    assert ("juki.birth", "baby") in [(p["code"], p["person"]) for p in result.procedures]


def test_marriage_changes_the_name(family, clerk):
    _, _, son = family
    data = {
        "event": {"type": "marriage", "date": "2026-06-01", "subjects": ["p1"]},
        "persons": [_existing(son, "p1", insurance="employee", name_changes=True,
                              new_name="山田 次郎", new_kana="ヤマダ ジロウ",
                              former_surname="鈴木", former_surname_kana="スズキ")],
    }  # fmt: skip
    life_event_confirm(data=data, actor=clerk)
    son.refresh_from_db()
    assert son.name == "山田 次郎" and son.former_surname == "鈴木"


def test_unknown_resident_and_other_municipality(family, clerk):
    head, _, _ = family
    data = {
        "event": {"type": "death", "date": "2026-05-01", "subjects": ["p1"]},
        "persons": [_existing(head, "p1")],
    }
    with tenant_context("271403"), pytest.raises(IntakeError, match="住民はいません"):
        life_event_confirm(data=data, actor=clerk)


def test_api_documents_the_life_event_body(client):
    """The OpenAPI document describes the body the service takes: the bodies these tests
    file validate against it, and a wrong shape does not."""
    from pydantic import ValidationError

    from machi.counter.api import LifeEventIn

    agent = {"kind": "agent", "name": "髙橋 一郎", "relationship": "父"}
    bodies = [
        move_in_family(),
        {**move_in_family(), "notifier": {"kind": "member", "person": "p1"}},
        {**move_in_family(), "notifier": agent},
        {
            "event": {"type": "move_out", "date": "令和8年4月3日", "subjects": ["p1"]},
            "persons": [{"id": "p1", "atena_number": "000000000001"}],
            "destination": "大阪府堺市堺区南瓦町3-1",
            "destination_lg_code": "271403",
            "consent": True,
        },
    ]
    for body in bodies:
        LifeEventIn.model_validate(body)
    for wrong in (
        {**move_in_family(), "notifier": {"kind": "member"}},
        {**move_in_family(), "address": {**ADDRESS, "room": "101"}},
        {**move_in_family(), "persons": []},
    ):
        with pytest.raises(ValidationError):
            LifeEventIn.model_validate(wrong)
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/{lg_code}/life-events"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert {"event", "persons", "address", "destination", "notifier"} <= set(body["properties"])
    assert body["required"] == ["event", "persons"]
    assert "$ref" not in json.dumps(body)


def test_api_intake(clerk, signed_in, make_staff, municipality_a, municipality_b):
    client = signed_in(clerk)
    response = client.post(
        "/api/v1/131016/life-events", move_in_family(), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["change"] == "move_in" and len(body["task_ids"]) == len(body["procedures"])
    assert body["status_url"].endswith(f"/{body['visit']}/")
    bad = move_in_family()
    bad["persons"][0]["sex"] = ""
    response = client.post("/api/v1/131016/life-events", bad, content_type="application/json")
    assert response.status_code == 422
    assert any("persons[0].sex" in e for e in response.json()["errors"])
    # Staff of another municipality, and anonymous callers, are refused.
    other = make_staff(municipality_b, ("shimin", "counter_clerk"))
    response = signed_in(other).post(
        "/api/v1/131016/life-events", move_in_family(), content_type="application/json"
    )
    assert response.status_code in (401, 403)
    from django.test import Client

    response = Client().post(
        "/api/v1/131016/life-events", move_in_family(), content_type="application/json"
    )
    assert response.status_code in (401, 403)
    with tenant_context("131016"):
        assert AuditEntry.objects.filter(action="resident.move_in", actor_id=clerk.pk).exists()
