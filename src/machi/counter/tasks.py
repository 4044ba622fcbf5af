"""The counter's background tasks (``machi db_worker``): the hourly retention of
residents' pre-applications (:mod:`machi.tenancy.periodic`)."""

from __future__ import annotations

import datetime
import logging

from django_tasks import task

from machi.audit.services import Terminal
from machi.counter.services.preapplications import preapplications_retention_run
from machi.tenancy.context import tenant_context
from machi.tenancy.periodic import periodic

logger = logging.getLogger(__name__)

RETENTION_EVERY = datetime.timedelta(hours=1)
WORKER_TERMINAL = Terminal(ip_address="", user_agent="machi db_worker")


@periodic(every=RETENTION_EVERY)
@task()
def counter_retention_task() -> dict[str, dict[str, int]]:
    """Every municipality in turn: delete expired pre-applications and the limit's issue
    rows older than its hour. One municipality failing (its database unreachable) does
    not stop the others; the run then fails, naming them, after the rest are done."""
    from machi.tenancy.models import Municipality

    done: dict[str, dict[str, int]] = {}
    failed: list[str] = []
    for lg_code in Municipality.objects.order_by("lg_code").values_list("lg_code", flat=True):
        try:
            with tenant_context(lg_code):
                done[lg_code] = preapplications_retention_run(terminal=WORKER_TERMINAL)
        except Exception:
            logger.exception("pre-application retention failed for %s", lg_code)
            failed.append(lg_code)
    if failed:
        raise RuntimeError(f"pre-application retention failed for {', '.join(failed)}")
    return done
