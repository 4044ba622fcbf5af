"""The contact center's background task (``machi db_worker``): the SLA sweep every
five minutes in every municipality (:mod:`machi.tenancy.periodic`)."""

from __future__ import annotations

import datetime
import logging

from django_tasks import task

from machi.audit.services import Terminal
from machi.contact.services.sla import sla_sweep
from machi.tenancy.context import tenant_context
from machi.tenancy.periodic import periodic

logger = logging.getLogger(__name__)

SWEEP_EVERY = datetime.timedelta(minutes=5)
WORKER_TERMINAL = Terminal(ip_address="", user_agent="machi db_worker")


@periodic(every=SWEEP_EVERY)
@task()
def contact_sla_sweep_task() -> dict[str, dict[str, int]]:
    """Every municipality in turn; one failing does not stop the others (the run then
    fails, naming them, after the rest are done)."""
    from machi.tenancy.models import Municipality

    done: dict[str, dict[str, int]] = {}
    failed: list[str] = []
    for lg_code in Municipality.objects.order_by("lg_code").values_list("lg_code", flat=True):
        try:
            with tenant_context(lg_code):
                done[lg_code] = sla_sweep(terminal=WORKER_TERMINAL)
        except Exception:
            logger.exception("SLA sweep failed for %s", lg_code)
            failed.append(lg_code)
    if failed:
        raise RuntimeError(f"SLA sweep failed for {', '.join(failed)}")
    return done
