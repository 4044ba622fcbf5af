"""Running the access-log analyses for a day, and the security officer's review."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from machi.analytics.accesslog import analyses, scoring
from machi.analytics.accesslog.models import (
    AccessLogSettings,
    Analysis,
    Finding,
    FindingStatus,
    UserDay,
)
from machi.analytics.duck import duck_cursor
from machi.audit.services import Terminal, audit_append
from machi.tenancy.context import current_lg_code, current_tenant_alias

JST = analyses.JST


def accesslog_settings() -> AccessLogSettings:
    """The municipality's parameters (defaults when it never saved any; nothing written)."""
    return AccessLogSettings.objects.filter(pk=1).first() or AccessLogSettings(pk=1)


def accesslog_params() -> analyses.Params:
    return analyses.Params.of(accesslog_settings())


def disabled_staff_ids(lg_code: str) -> list[int]:
    """Ids of the municipality's staff accounts that are disabled (control database)."""
    from machi.accounts.models import Staff

    return list(
        Staff.objects.filter(municipality__lg_code=lg_code, is_active=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def yesterday() -> dt.date:
    return timezone.now().astimezone(JST).date() - dt.timedelta(days=1)


@dataclass
class DayRun:
    day: dt.date
    hits: dict[str, list[analyses.Hit]]
    scores: list[scoring.UserDayScore]
    created: int
    kept: int


def accesslog_analyse(
    *,
    date_from: dt.date,
    date_to: dt.date,
    params: analyses.Params | None = None,
    disabled_ids: Iterable[int] | None = None,
) -> dict[str, list[analyses.Hit]]:
    """The five analyses over the dates of the municipality in force (read-only)."""
    lg_code = current_lg_code()
    params = params or accesslog_params()
    ids = list(disabled_staff_ids(lg_code) if disabled_ids is None else disabled_ids)
    with duck_cursor(lg_code) as cur:
        return analyses.run_all(cur, date_from, date_to, params, disabled_ids=ids)


def accesslog_day_run(
    *,
    day: dt.date,
    actor: Any | None = None,
    terminal: Terminal | None = None,
    disabled_ids: Iterable[int] | None = None,
) -> DayRun:
    """Run the analyses and the scores for ``day`` (JST) in the municipality in force and
    store the findings. Idempotent: a re-run replaces the day's open findings and scores;
    findings the officer already reviewed stay, and are not found twice."""
    lg_code = current_lg_code()
    settings = accesslog_settings()
    params = analyses.Params.of(settings)
    ids = list(disabled_staff_ids(lg_code) if disabled_ids is None else disabled_ids)
    history_from = day - dt.timedelta(days=params.history_days)
    with duck_cursor(lg_code) as cur:
        analyses.load(cur, history_from, day)  # one scan: the day and its history
        try:
            hits = analyses.run_all(cur, day, day, params, disabled_ids=ids, loaded=True)
            counts = scoring.features(cur, history_from, day, params)
        finally:
            analyses.unload(cur)
    every_hit = [h for found in hits.values() for h in found]
    scores = scoring.score_day(day, counts, every_hit, params)
    by_user = {s.actor_id: s for s in scores}
    now = timezone.now()
    with transaction.atomic(using=current_tenant_alias()):
        Finding.objects.filter(day=day, status=FindingStatus.OPEN).delete()
        reviewed = {
            (f.analysis, f.day, f.actor_id, f.subject)
            for f in Finding.objects.filter(day=day).exclude(status=FindingStatus.OPEN)
        }
        new = []
        for hit in every_hit:
            if hit.key in reviewed:
                continue
            user = by_user.get(hit.actor_id) if hit.actor_id is not None else None
            score = user.score if user else scoring.subject_score(hit, params)
            new.append(
                Finding(
                    analysis=hit.analysis,
                    day=day,
                    actor_id=hit.actor_id,
                    actor_username=hit.actor_username,
                    subject=hit.subject,
                    count=hit.count,
                    score=score,
                    reasons={"analysis": hit.reasons, "score": user.reasons if user else []},
                    evidence=hit.evidence,
                    created_at=now,
                )
            )
        # A user-day the score alone puts high, with no analysis behind it.
        hit_users = {h.actor_id for h in every_hit}
        for user in scores:
            if user.score < settings.queue_min_score or user.actor_id in hit_users:
                continue
            if (Analysis.ANOMALY, day, user.actor_id, "") in reviewed:
                continue
            new.append(
                Finding(
                    analysis=Analysis.ANOMALY,
                    day=day,
                    actor_id=user.actor_id,
                    actor_username=user.actor_username,
                    count=user.features.get("entries", 0),
                    score=user.score,
                    reasons={"analysis": {}, "score": user.reasons},
                    created_at=now,
                )
            )
        Finding.objects.bulk_create(new)
        UserDay.objects.filter(day=day).delete()
        UserDay.objects.bulk_create(
            UserDay(
                day=day,
                actor_id=s.actor_id,
                actor_username=s.actor_username,
                score=s.score,
                features=s.features,
                reasons=s.reasons,
            )
            for s in scores
        )
        audit_append(
            action="accesslog.analysed",
            actor=actor,
            object_type="accesslog_day",
            object_id=day.isoformat(),
            function="accesslog:run",
            terminal=terminal,
            detail={
                "findings": {name: len(found) for name, found in hits.items()},
                "created": len(new),
                "kept": len(reviewed),
            },
        )
    return DayRun(day, hits, scores, len(new), len(reviewed))


DECISIONS = (FindingStatus.EXPLAINED, FindingStatus.ESCALATED)


def finding_review(
    *,
    finding: Finding,
    reviewer: Any,
    decision: str,
    note: str,
    terminal: Terminal | None = None,
) -> Finding:
    """The security officer marks a finding explained or escalates it; audited."""
    if decision not in DECISIONS:
        raise ValidationError(_("確認の結果を選んでください。"))
    note = (note or "").strip()
    if not note:
        raise ValidationError(_("所見を書いてください。"))
    before = finding.status
    with transaction.atomic(using=current_tenant_alias()):
        finding.status = decision
        finding.note = note[:4000]
        finding.reviewer_id = getattr(reviewer, "pk", None)
        finding.reviewer_username = getattr(reviewer, "username", "") or ""
        finding.reviewed_at = timezone.now()
        finding.save(
            update_fields=["status", "note", "reviewer_id", "reviewer_username", "reviewed_at"]
        )
        audit_append(
            action="accesslog.finding.reviewed",
            actor=reviewer,
            object_type="accesslog_finding",
            object_id=str(finding.pk),
            function="accesslog:finding",
            terminal=terminal,
            detail={
                "before": before,
                "decision": decision,
                "analysis": finding.analysis,
                "day": finding.day.isoformat(),
                "user": finding.who,
            },
        )
    return finding
