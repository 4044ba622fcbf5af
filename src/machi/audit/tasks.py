"""Scheduled verification of the audit chains (run by `machi db_worker`)."""

from __future__ import annotations

import logging

from django_tasks import task

from machi.audit.selectors import audit_verify
from machi.tenancy.tasks import in_tenant

logger = logging.getLogger(__name__)


@task()
@in_tenant
def audit_verify_task() -> dict[str, object]:
    """Verify the chain of the municipality given as the task's argument."""
    result = audit_verify()
    if not result.ok:
        logger.error(
            "audit chain broken at position %s (seq %s): %s",
            result.position,
            result.seq,
            result.reason,
        )
    return {
        "ok": result.ok,
        "entries": result.entries,
        "position": result.position,
        "reason": result.reason,
    }
