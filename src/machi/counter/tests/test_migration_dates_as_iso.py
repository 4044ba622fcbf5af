"""Migration counter 0006: the dates typed into stored navigator inputs become ISO dates.

Each test makes a municipality with its own fresh database, migrates the counter app back
to 0005 there, writes rows through the historical models as the old intake stored them,
and migrates forward with Django's executor.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from machi.tenancy.context import tenant_alias
from machi.tenancy.services import municipality_create

pytestmark = pytest.mark.django_db(databases="__all__")

BEFORE = ("counter", "0005_preapplication_issue_limit")
AFTER = ("counter", "0006_dates_as_iso")


def _database_at_0005(new_tenants, lg_code: str, name: str):
    """A new municipality's database with the counter app back at 0005; its models."""
    new_tenants.append(lg_code)
    municipality_create(lg_code=lg_code, name=name)
    alias = tenant_alias(lg_code)
    executor = MigrationExecutor(connections[alias])
    executor.migrate([BEFORE])
    apps = executor.loader.project_state([BEFORE]).apps
    return alias, apps.get_model("counter", "Visit"), apps.get_model("counter", "PreApplication")


def _migrate(alias: str, target: tuple[str, str]) -> None:
    executor = MigrationExecutor(connections[alias])  # a fresh graph: what is applied now
    executor.migrate([target])


def _applied(alias: str) -> bool:
    recorder = MigrationRecorder(connections[alias])
    return AFTER in recorder.applied_migrations()


def _input(event_date: str, *births: str) -> dict:
    return {
        "event": {"type": "move_in", "date": event_date, "subjects": ["p1"]},
        "persons": [
            {"id": f"p{i}", "birth_date": born, "insurance": "kokuho"}
            for i, born in enumerate(births, start=1)
        ],
        "answers": {"has_dog": False},
    }


def _visit(model, alias: str, code: str, navigator_input: dict):
    return model.objects.using(alias).create(
        public_code=code,
        event_type="move_in",
        event_date=datetime.date(2026, 4, 3),
        navigator_input=navigator_input,
        opened_at=timezone.now(),
    )


def _preapplication(model, alias: str, code: str, navigator_input: dict):
    now = timezone.now()
    return model.objects.using(alias).create(
        code=code,
        navigator_input=navigator_input,
        created_at=now,
        expires_at=now + datetime.timedelta(days=30),
    )


def test_typed_dates_become_iso_and_stay_so_going_back(new_tenants):
    alias, visit_model, pre_model = _database_at_0005(new_tenants, "131059", "文京区")
    typed = _visit(
        visit_model,
        alias,
        "V-TYPED",
        _input(
            "令和8年4月3日", "S60.6.15", "昭和30年月日不詳", "平成3年2月30日", "２０２０１２０１"
        ),
    )
    iso = _input("2026-04-03", "1985-06-15")
    already = _visit(visit_model, alias, "V-ISO", iso)
    pre = _preapplication(pre_model, alias, "ACEFGH34", _input("R8.4.3", "令和元年5月1日"))

    _migrate(alias, AFTER)

    assert _applied(alias)
    data = visit_model.objects.using(alias).get(pk=typed.pk).navigator_input
    assert data["event"]["date"] == "2026-04-03"
    assert [p["birth_date"] for p in data["persons"]] == [
        "1985-06-15",
        "1955-01-01",  # 不詳: its approximate day, as the navigator used it
        "1991-02-28",  # non-calendar: the month's last day
        "2020-12-01",
    ]
    # everything else of the input is kept
    assert data["answers"] == {"has_dog": False}
    assert data["persons"][0]["insurance"] == "kokuho"
    assert visit_model.objects.using(alias).get(pk=already.pk).navigator_input == iso
    pre_data = pre_model.objects.using(alias).get(pk=pre.pk).navigator_input
    assert pre_data["event"]["date"] == "2026-04-03"
    assert pre_data["persons"][0]["birth_date"] == "2019-05-01"

    # Going back keeps the dates (ISO is valid input); forward again changes nothing.
    _migrate(alias, BEFORE)
    assert not _applied(alias)
    assert visit_model.objects.using(alias).get(pk=typed.pk).navigator_input == data
    _migrate(alias, AFTER)
    assert visit_model.objects.using(alias).get(pk=typed.pk).navigator_input == data


def test_an_unreadable_date_stops_the_migration_naming_every_row(new_tenants):
    alias, visit_model, pre_model = _database_at_0005(new_tenants, "131067", "台東区")
    # More good rows than one write batch: the batches written before the error roll back.
    visit_model.objects.using(alias).bulk_create(
        visit_model(
            public_code=f"V-GOOD{n:04d}",
            event_type="move_in",
            event_date=datetime.date(2026, 4, 3),
            navigator_input=_input("令和8年4月3日", "S60.6.15"),
            opened_at=timezone.now(),
        )
        for n in range(600)
    )
    bad_birth = _visit(
        visit_model, alias, "V-BADBIRTH", _input("2026-04-03", "S60.6.15", "令和元年4月1日")
    )
    bad_event = _visit(visit_model, alias, "V-BADEVENT", _input("2026年2月30日", "S60.6.15"))
    unknown = _visit(visit_model, alias, "V-UNKNOWN", _input("2026-04-03", "年月日不詳"))
    bad_pre = _preapplication(pre_model, alias, "ACEFGH35", _input("R8.4.3", "someday"))

    with pytest.raises(ValueError) as info:
        _migrate(alias, AFTER)

    message = str(info.value)
    assert (
        f"counter.Visit pk={bad_birth.pk} (public_code V-BADBIRTH) "
        "navigator_input.persons[1].birth_date = '令和元年4月1日': "
        "令和元年は5月1日からです（令和元年4月1日は平成31年4月1日）"
    ) in message
    assert (
        f"counter.Visit pk={bad_event.pk} (public_code V-BADEVENT) "
        "navigator_input.event.date = '2026年2月30日': not a whole calendar day"
    ) in message
    assert (
        f"counter.Visit pk={unknown.pk} (public_code V-UNKNOWN) "
        "navigator_input.persons[0].birth_date = '年月日不詳': the year is unknown"
    ) in message
    assert "V-GOOD" not in message
    # Nothing was written, and the migration is not recorded as applied.
    assert not _applied(alias)
    typed = visit_model.objects.using(alias).filter(navigator_input__event__date="令和8年4月3日")
    assert typed.count() == 600

    # The clerk's office corrects the visits; the next run names the pre-application.
    for visit in (bad_birth, bad_event, unknown):
        visit_model.objects.using(alias).filter(pk=visit.pk).update(
            navigator_input=_input("2026-04-03", "1985-06-15")
        )
    with pytest.raises(ValueError) as info:
        _migrate(alias, AFTER)
    assert (
        f"counter.PreApplication pk={bad_pre.pk} (code ACEFGH35) "
        "navigator_input.persons[0].birth_date = 'someday': 日付の形式が正しくありません"
    ) in str(info.value)
    assert not _applied(alias)

    pre_model.objects.using(alias).filter(pk=bad_pre.pk).delete()
    _migrate(alias, AFTER)
    assert _applied(alias)
    assert (
        not visit_model.objects.using(alias)
        .exclude(navigator_input__event__date="2026-04-03")
        .exists()
    )
