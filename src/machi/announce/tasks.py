"""Background work of announcements (``machi db_worker``): the fan-out right after a
publication, and every minute the deliveries whose retry has come, in every
municipality (:mod:`machi.tenancy.periodic`)."""

from __future__ import annotations

import datetime
import logging

from django_tasks import task

from machi.tenancy.context import tenant_context
from machi.tenancy.periodic import periodic
from machi.tenancy.tasks import in_tenant

logger = logging.getLogger(__name__)

RETRY_EVERY = datetime.timedelta(minutes=1)


@task()
@in_tenant
def announce_deliver_task(announcement_id: int) -> dict[str, int]:
    """The announcement's due channels, after the commit that published it."""
    from machi.announce.delivery import deliveries_run

    return deliveries_run(announcement_id=announcement_id)


@periodic(every=RETRY_EVERY)
@task()
def announce_retry_task() -> dict[str, dict[str, int]]:
    """Every municipality in turn: the deliveries whose next attempt has come, and the
    subscriptions never confirmed in time (their addresses go)."""
    from machi.announce.delivery import deliveries_run
    from machi.announce.services import subscriptions_expire
    from machi.tenancy.models import Municipality

    done: dict[str, dict[str, int]] = {}
    failed: list[str] = []
    for lg_code in Municipality.objects.order_by("lg_code").values_list("lg_code", flat=True):
        try:
            with tenant_context(lg_code):
                done[lg_code] = deliveries_run()
                done[lg_code]["expired_subscriptions"] = subscriptions_expire()
        except Exception:
            logger.exception("announcement deliveries failed for %s", lg_code)
            failed.append(lg_code)
    if failed:
        raise RuntimeError(f"announcement deliveries failed for {', '.join(failed)}")
    return done
