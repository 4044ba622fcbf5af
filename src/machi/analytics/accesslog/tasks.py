"""The access-log analyses on the background worker (``machi db_worker``): every
municipality's yesterday (JST), analysed once a day (:mod:`machi.tenancy.periodic`).

The task runs every :data:`EVERY` (6 hours) and analyses yesterday when yesterday has
not been analysed yet (no ``accesslog.analysed`` entry for it in the municipality's
audit log), so a worker that was down at midnight catches up at its next start and a
run that comes twice does nothing twice. A municipality failing (its database
unreachable) does not stop the others; the run then fails, naming them.
"""

from __future__ import annotations

import datetime
import logging

from django_tasks import task

from machi.audit.services import Terminal
from machi.tenancy.context import tenant_context
from machi.tenancy.periodic import periodic

logger = logging.getLogger(__name__)

EVERY = datetime.timedelta(hours=6)
WORKER_TERMINAL = Terminal(ip_address="", user_agent="machi db_worker")


def analysed(day: datetime.date) -> bool:
    from machi.audit.models import AuditEntry

    return AuditEntry.objects.filter(
        action="accesslog.analysed", object_id=day.isoformat()
    ).exists()


@periodic(every=EVERY)
@task()
def accesslog_daily_task() -> dict[str, dict[str, int]]:
    from machi.analytics.accesslog.services import accesslog_day_run, yesterday
    from machi.tenancy.models import Municipality

    day = yesterday()
    done: dict[str, dict[str, int]] = {}
    failed: list[str] = []
    for lg_code in Municipality.objects.order_by("lg_code").values_list("lg_code", flat=True):
        try:
            with tenant_context(lg_code):
                if analysed(day):
                    continue
                run = accesslog_day_run(day=day, terminal=WORKER_TERMINAL)
                done[lg_code] = {name: len(hits) for name, hits in run.hits.items()}
        except Exception:
            logger.exception("access-log analyses failed for %s", lg_code)
            failed.append(lg_code)
    if failed:
        raise RuntimeError(f"access-log analyses failed for {', '.join(failed)}")
    return done
