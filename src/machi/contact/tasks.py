"""The contact center's background tasks (``machi db_worker``): the SLA sweep every
five minutes, the mail retry every minute and the sweep of unreferenced mail files
every six hours, in every municipality (:mod:`machi.tenancy.periodic`)."""

from __future__ import annotations

import datetime
import logging

from django_tasks import task

from machi.audit.services import Terminal
from machi.contact.services.sla import sla_sweep
from machi.tenancy.context import tenant_context
from machi.tenancy.periodic import periodic
from machi.tenancy.tasks import in_tenant

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


MAIL_RETRY_EVERY = datetime.timedelta(minutes=1)


@task()
@in_tenant
def contact_mail_send_task(mail_id: int) -> bool:
    """Send one queued mail right after the reply's commit (a failure stays pending)."""
    from machi.contact.mail.send import mail_send

    return mail_send(mail_id=mail_id)


@periodic(every=MAIL_RETRY_EVERY)
@task()
def contact_mail_retry_task() -> dict[str, dict[str, int]]:
    """Every municipality in turn: send the mail whose next attempt has come."""
    from machi.contact.mail.send import mail_send_due
    from machi.tenancy.models import Municipality

    done: dict[str, dict[str, int]] = {}
    failed: list[str] = []
    for lg_code in Municipality.objects.order_by("lg_code").values_list("lg_code", flat=True):
        try:
            with tenant_context(lg_code):
                done[lg_code] = mail_send_due()
        except Exception:
            logger.exception("contact mail retry failed for %s", lg_code)
            failed.append(lg_code)
    if failed:
        raise RuntimeError(f"contact mail retry failed for {', '.join(failed)}")
    return done


FILES_SWEEP_EVERY = datetime.timedelta(hours=6)


@periodic(every=FILES_SWEEP_EVERY)
@task()
def contact_mail_files_sweep_task() -> dict[str, dict[str, int]]:
    """Every municipality in turn: delete mail files no row refers to."""
    from machi.contact.mail.files import mail_files_sweep
    from machi.tenancy.models import Municipality

    done: dict[str, dict[str, int]] = {}
    failed: list[str] = []
    for lg_code in Municipality.objects.order_by("lg_code").values_list("lg_code", flat=True):
        try:
            with tenant_context(lg_code):
                done[lg_code] = mail_files_sweep()
        except Exception:
            logger.exception("contact mail files sweep failed for %s", lg_code)
            failed.append(lg_code)
    if failed:
        raise RuntimeError(f"contact mail files sweep failed for {', '.join(failed)}")
    return done
