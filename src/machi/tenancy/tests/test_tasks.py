from __future__ import annotations

import pytest
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from machi.audit.tasks import audit_verify_task
from machi.tenancy.context import current_lg_code_or_none

pytestmark = pytest.mark.django_db(databases="__all__")


def test_task_runs_inside_the_municipality_it_is_given(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    result = audit_verify_task.enqueue("271403")
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value["ok"] is True
    assert result.return_value["entries"] >= 1  # "municipality.created" at least
    assert current_lg_code_or_none() is None


def test_task_for_unknown_municipality_fails(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    result = audit_verify_task.enqueue("011002")
    assert result.status == TaskResultStatus.FAILED


def test_database_queue_lives_in_the_control_database():
    result = audit_verify_task.enqueue("131016")
    row = DBTaskResult.objects.using("default").get(id=result.id)
    assert row.args_kwargs["args"] == ["131016"]
    # What the worker does with the row: call the task body with its arguments.
    assert audit_verify_task.call(*row.args_kwargs["args"])["ok"] is True
