"""Background tasks that work inside one municipality.

The municipality is always an explicit task argument (a task runs in the worker,
far from the request that enqueued it), and the task body runs in its context.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from machi.tenancy.context import tenant_context

P = ParamSpec("P")
T = TypeVar("T")


def in_tenant(func: Callable[P, T]) -> Callable[..., T]:
    """Make ``func`` a task body taking the municipality's lg_code as first argument.

    >>> @task()
    ... @in_tenant
    ... def audit_verify_task() -> dict: ...
    >>> audit_verify_task.enqueue("131016")
    """

    @wraps(func)
    def run(lg_code: str, *args: P.args, **kwargs: P.kwargs) -> T:
        with tenant_context(lg_code):
            return func(*args, **kwargs)

    return run
