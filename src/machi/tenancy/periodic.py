"""Periodic tasks on the background worker (``machi db_worker``).

django-tasks runs tasks when they are enqueued and has no schedule of its own, so a
periodic task is an ordinary task, taking no arguments, marked with :func:`periodic`::

    @periodic(every=datetime.timedelta(hours=1))
    @task()
    def counter_retention_task() -> dict: ...

* When ``machi db_worker`` starts it imports every app's ``tasks`` module and enqueues a
  run of each periodic task that has no run waiting (:func:`periodic_ensure`): the
  first run comes at once.
* When a run ends, successful or failed, the worker enqueues the next one ``every``
  later (django-tasks' ``task_finished`` signal), unless one is waiting already.

So one run waits at a time, in the task table like any other task (``machi db_worker``
shows it in its log; its result and any error stay in the table). A worker killed in the
middle of a run leaves none waiting: the next start enqueues one. Two workers starting at
once (PostgreSQL) may both enqueue one; the extra one ends the next time a run finds
another waiting. A run may therefore come twice or late: periodic tasks must be
idempotent and must not depend on the exact interval.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from typing import Any

from django.dispatch import receiver
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django_tasks_db.compat import task_finished  # the signal the worker sends

logger = logging.getLogger(__name__)

_REGISTRY: dict[str, datetime.timedelta] = {}  # task module path → interval


def periodic(*, every: datetime.timedelta) -> Callable[[Any], Any]:
    """Mark a task (the result of ``@task()``) to run every ``every`` on the worker."""
    if every <= datetime.timedelta(0):
        raise ValueError("a periodic task needs a positive interval")

    def register(task: Any) -> Any:
        _REGISTRY[task.module_path] = every
        return task

    return register


def periodic_tasks() -> dict[str, datetime.timedelta]:
    """The periodic tasks known to this process (module path → interval)."""
    return dict(_REGISTRY)


def _waiting(module_path: str) -> bool:
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(
        task_path=module_path, status=TaskResultStatus.READY
    ).exists()


def _enqueue(module_path: str, run_after: datetime.datetime | None) -> None:
    from django.utils.module_loading import import_string

    task = import_string(module_path)
    (task.using(run_after=run_after) if run_after else task).enqueue()


def periodic_ensure() -> list[str]:
    """Enqueue a run, now, of every periodic task with none waiting (the worker calls
    it when it starts); returns the module paths enqueued."""
    autodiscover_modules("tasks")
    enqueued = []
    for module_path in sorted(_REGISTRY):
        if not _waiting(module_path):
            _enqueue(module_path, None)
            enqueued.append(module_path)
    return enqueued


@receiver(task_finished)
def _schedule_next(sender: Any, task_result: Any, **kwargs: Any) -> None:
    try:
        module_path = task_result.task.module_path
    except Exception:  # a result whose task cannot be imported any more
        return
    every = _REGISTRY.get(module_path)
    if every is None:
        return
    try:
        if not _waiting(module_path):
            _enqueue(module_path, timezone.now() + every)
    except Exception:
        # Never turn the run's own outcome into a failure; the next worker start
        # enqueues the task again.
        logger.exception("could not schedule the next run of %s", module_path)
