"""The website's background task (``machi db_worker``): scheduled publishing and
unpublishing, every minute in every municipality (:mod:`machi.tenancy.periodic`)."""

from __future__ import annotations

import datetime
import logging

from django_tasks import task

from machi.site.services import site_schedule_run
from machi.tenancy.context import tenant_context
from machi.tenancy.periodic import periodic

logger = logging.getLogger(__name__)

SCHEDULE_EVERY = datetime.timedelta(minutes=1)


@periodic(every=SCHEDULE_EVERY)
@task()
def site_schedule_task() -> dict[str, dict[str, int]]:
    """Every municipality in turn; one failing does not stop the others (the run then
    fails, naming them, after the rest are done). Idempotent: what is done stays done."""
    from machi.tenancy.models import Municipality

    done: dict[str, dict[str, int]] = {}
    failed: list[str] = []
    for lg_code in Municipality.objects.order_by("lg_code").values_list("lg_code", flat=True):
        try:
            with tenant_context(lg_code):
                done[lg_code] = site_schedule_run()
        except Exception:
            logger.exception("site schedule failed for %s", lg_code)
            failed.append(lg_code)
    if failed:
        raise RuntimeError(f"site schedule failed for {', '.join(failed)}")
    return done
