"""Periodic tasks on `machi db_worker` (machi.tenancy.periodic): the worker enqueues each
one when it starts, and every run enqueues the next one, once."""

from __future__ import annotations

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils.module_loading import autodiscover_modules
from django_tasks import task
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from machi.tenancy import periodic

pytestmark = pytest.mark.django_db(databases="__all__")

JST = ZoneInfo("Asia/Tokyo")
T0 = datetime.datetime(2026, 4, 6, 9, tzinfo=JST)
HOUR = datetime.timedelta(hours=1)


@task()
def tick_task() -> str:
    return "tick"


@task()
def broken_task() -> None:
    raise RuntimeError("broken on purpose")


TICK = tick_task.module_path
BROKEN = broken_task.module_path


def run_worker() -> None:
    """`machi db_worker --batch` in this process: runs what is due, then returns."""
    call_command(
        "db_worker", "--batch", "--no-startup-delay", "--no-reload", "--verbosity", "0",
        stdout=io.StringIO(),
    )  # fmt: skip


@pytest.fixture
def registry(monkeypatch):
    """Only the test's periodic tasks (every app's tasks module imported beforehand, so
    the worker's discovery registers nothing else), and a worker fit for a test: it
    keeps the test's connections (they hold its transaction) and the test runner's
    signal handlers."""
    autodiscover_modules("tasks")
    monkeypatch.setattr(periodic, "_REGISTRY", {})
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    monkeypatch.setattr(db_worker.Worker, "configure_signals", lambda self: None)
    return periodic._REGISTRY


def statuses(path: str) -> list[str]:
    return sorted(DBTaskResult.objects.filter(task_path=path).values_list("status", flat=True))


def waiting(path: str) -> datetime.datetime:
    """When the one run waiting is due."""
    (run_after,) = DBTaskResult.objects.filter(
        task_path=path, status=TaskResultStatus.READY
    ).values_list("run_after", flat=True)
    return run_after.astimezone(JST)


def test_the_worker_runs_a_periodic_task_at_start_then_every_interval(registry, time_machine):
    periodic.periodic(every=HOUR)(tick_task)
    time_machine.move_to(T0, tick=False)
    run_worker()
    ran = DBTaskResult.objects.get(task_path=TICK, status=TaskResultStatus.SUCCESSFUL)
    assert ran.return_value == "tick"
    assert waiting(TICK) == T0 + HOUR

    # a restart before it is due adds nothing and runs nothing
    time_machine.move_to(T0 + datetime.timedelta(minutes=10), tick=False)
    run_worker()
    assert statuses(TICK) == ["READY", "SUCCESSFUL"]

    # when due it runs, and the next one waits an interval after that run
    later = T0 + HOUR + datetime.timedelta(seconds=30)
    time_machine.move_to(later, tick=False)
    run_worker()
    assert statuses(TICK) == ["READY", "SUCCESSFUL", "SUCCESSFUL"]
    assert waiting(TICK) == later + HOUR


def test_a_failed_run_still_schedules_the_next(registry, time_machine):
    periodic.periodic(every=HOUR)(broken_task)
    time_machine.move_to(T0, tick=False)
    run_worker()
    assert statuses(BROKEN) == ["FAILED", "READY"]
    assert waiting(BROKEN) == T0 + HOUR


def test_two_chains_become_one(registry, time_machine):
    """Two workers starting at once may each enqueue a run: the first run that finds
    the other one waiting enqueues no successor."""
    periodic.periodic(every=HOUR)(tick_task)
    time_machine.move_to(T0, tick=False)
    tick_task.enqueue(), tick_task.enqueue()
    run_worker()
    assert statuses(TICK) == ["READY", "SUCCESSFUL", "SUCCESSFUL"]


def test_ensure_enqueues_only_what_has_no_run_waiting(registry, time_machine):
    periodic.periodic(every=HOUR)(tick_task)
    periodic.periodic(every=datetime.timedelta(days=1))(broken_task)
    time_machine.move_to(T0, tick=False)
    tick_task.using(run_after=T0 + HOUR).enqueue()
    assert periodic.periodic_ensure() == [BROKEN]
    assert periodic.periodic_ensure() == []
    assert periodic.periodic_tasks() == {TICK: HOUR, BROKEN: datetime.timedelta(days=1)}


def test_an_ordinary_task_is_not_rescheduled(registry, time_machine):
    time_machine.move_to(T0, tick=False)
    tick_task.enqueue()
    run_worker()
    assert statuses(TICK) == ["SUCCESSFUL"]


def test_an_interval_must_be_positive():
    for every in (datetime.timedelta(0), datetime.timedelta(seconds=-1)):
        with pytest.raises(ValueError, match="positive"):
            periodic.periodic(every=every)


def test_the_apps_periodic_tasks_are_registered():
    autodiscover_modules("tasks")
    assert periodic.periodic_tasks()["machi.counter.tasks.counter_retention_task"] == HOUR
