"""Background delivery of the ActivityPub channel (``machi db_worker``).

``note_publish`` enqueues a run for its municipality at once; the periodic task sends
whatever is due in every municipality (retries after their backoff, and anything whose
immediate run was lost).
"""

from __future__ import annotations

import datetime
import logging

from django_tasks import task

from machi.tenancy.context import tenant_context
from machi.tenancy.periodic import periodic
from machi.tenancy.tasks import in_tenant

logger = logging.getLogger("machi.activitypub")

RETRY_EVERY = datetime.timedelta(minutes=1)


@task()
@in_tenant
def activitypub_deliver_task() -> dict[str, int]:
    from machi.activitypub.delivery import deliveries_send_due

    return deliveries_send_due()


@periodic(every=RETRY_EVERY)
@task()
def activitypub_retry_task() -> dict[str, dict[str, int]]:
    """Every municipality in turn; one failing does not stop the others."""
    from machi.activitypub.delivery import deliveries_send_due
    from machi.tenancy.models import Municipality

    done: dict[str, dict[str, int]] = {}
    failed: list[str] = []
    for lg_code in Municipality.objects.order_by("lg_code").values_list("lg_code", flat=True):
        try:
            with tenant_context(lg_code):
                done[lg_code] = deliveries_send_due()
        except Exception:
            logger.exception("ActivityPub delivery failed for %s", lg_code)
            failed.append(lg_code)
    if failed:
        raise RuntimeError(f"ActivityPub delivery failed for {', '.join(failed)}")
    return done
