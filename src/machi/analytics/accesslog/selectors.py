"""Reading the findings (the review queue) and the audit entries behind one finding."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from machi.analytics.accesslog.models import Finding
from machi.audit.models import AuditEntry
from machi.audit.services import Terminal, audit_append

QUEUE_SIZE = 100


def finding_queue(*, status: str = "", analysis: str = "") -> QuerySet[Finding]:
    """The findings, highest score first (the queue shows the top :data:`QUEUE_SIZE`)."""
    findings = Finding.objects.all()
    if status:
        findings = findings.filter(status=status)
    if analysis:
        findings = findings.filter(analysis=analysis)
    return findings.order_by("-score", "-day", "id")


def finding_evidence(
    *, finding: Finding, actor: Any, terminal: Terminal | None = None
) -> list[AuditEntry]:
    """The audit entries behind ``finding``; they name residents, so this read is itself
    audited (which entries the officer saw)."""
    seqs = [int(s) for s in finding.evidence]
    entries = list(AuditEntry.objects.filter(seq__in=seqs).order_by("seq"))
    audit_append(
        action="accesslog.finding.viewed",
        actor=actor,
        object_type="accesslog_finding",
        object_id=str(finding.pk),
        function="accesslog:finding",
        terminal=terminal,
        detail={"seqs": [e.seq for e in entries]},
    )
    return entries
