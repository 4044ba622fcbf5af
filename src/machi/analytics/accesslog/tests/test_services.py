"""Running a day (idempotent), the review (audited), the worker task, the CLI."""

from __future__ import annotations

import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from machi.analytics.accesslog import services
from machi.analytics.accesslog.models import Finding, FindingStatus, UserDay
from machi.analytics.accesslog.tests import scratch
from machi.audit.models import AuditEntry
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

DAY = scratch.DATE_TO


def test_a_day_run_stores_findings_and_a_rerun_replaces_the_open_ones(log, make_staff,
                                                                      municipality_a):  # fmt: skip
    officer = make_staff(municipality_a, ("shimin", "security_officer"))
    with tenant_context(scratch.INJECTED):
        run = services.accesslog_day_run(day=DAY, disabled_ids=log.disabled_ids)
        findings = list(Finding.objects.filter(day=DAY))
        assert run.created == len(findings) >= 10
        assert {f.analysis for f in findings} >= {
            "off_hours", "mass_access", "no_reason", "account", "failed_login"
        }  # fmt: skip
        top = Finding.objects.order_by("-score").first()
        assert top.actor_id in log.involved and top.evidence
        assert UserDay.objects.filter(day=DAY).count() == len(run.scores)
        # The officer explains one; a re-run keeps it and does not find it twice.
        services.finding_review(
            finding=top, reviewer=officer, decision=FindingStatus.EXPLAINED,
            note="本人に確認：窓口の残業",
        )  # fmt: skip
        rerun = services.accesslog_day_run(day=DAY, disabled_ids=log.disabled_ids)
        assert rerun.kept == 1 and rerun.created == len(findings) - 1
        assert Finding.objects.filter(day=DAY).count() == len(findings)
        kept = Finding.objects.get(pk=top.pk)
        assert kept.status == "explained" and kept.reviewer_username == officer.username
        assert UserDay.objects.filter(day=DAY).count() == len(run.scores)
        review = AuditEntry.objects.get(action="accesslog.finding.reviewed")
        assert review.actor_id == officer.pk and review.object_id == str(top.pk)
        assert review.detail["decision"] == "explained" and review.detail["before"] == "open"
        assert (
            AuditEntry.objects.filter(action="accesslog.analysed", object_id="2026-11-24").count()
            == 2
        )


def test_review_needs_a_decision_and_a_note(log, make_staff, municipality_a):
    officer = make_staff(municipality_a, ("shimin", "security_officer"))
    with tenant_context(scratch.INJECTED):
        services.accesslog_day_run(day=DAY, disabled_ids=log.disabled_ids)
        finding = Finding.objects.first()
        with pytest.raises(ValidationError):
            services.finding_review(finding=finding, reviewer=officer, decision="open", note="x")
        with pytest.raises(ValidationError):
            services.finding_review(finding=finding, reviewer=officer, decision="escalated",
                                    note="  ")  # fmt: skip
        assert not AuditEntry.objects.filter(action="accesslog.finding.reviewed").exists()
        assert Finding.objects.get(pk=finding.pk).status == "open"


def test_disabled_accounts_come_from_the_control_database(make_staff, municipality_a):
    active = make_staff(municipality_a, ("shimin", "counter_clerk"))
    gone = make_staff(municipality_a, ("shimin", "counter_clerk"))
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    ids = services.disabled_staff_ids("131016")
    assert gone.pk in ids and active.pk not in ids


def test_the_worker_task_runs_yesterday_once_for_every_municipality(municipality_a):
    from machi.analytics.accesslog.tasks import accesslog_daily_task
    from machi.tenancy.periodic import periodic_tasks

    assert "machi.analytics.accesslog.tasks.accesslog_daily_task" in periodic_tasks()
    done = accesslog_daily_task.call()
    assert {"131016", "271403"} <= set(done)
    day = services.yesterday().isoformat()
    with tenant_context("131016"):
        assert AuditEntry.objects.filter(action="accesslog.analysed", object_id=day).count() == 1
    assert accesslog_daily_task.call() == {}  # a second run the same day does nothing


def test_cli_prints_the_findings_as_json(log):
    out = io.StringIO()
    call_command(
        "analytics", "accesslog", "--tenant", scratch.INJECTED, "--date", DAY.isoformat(),
        "--json", stdout=out,
    )  # fmt: skip
    data = json.loads(out.getvalue())
    assert data["lg_code"] == scratch.INJECTED and data["date"] == "2026-11-24"
    assert set(data["findings"]) == {
        "off_hours", "mass_access", "no_reason", "account", "failed_login"
    }  # fmt: skip
    users = {f["user"] for f in data["findings"]["mass_access"]}
    assert "syn-clerk03" in users
    assert data["scores"][0]["score"] >= data["scores"][-1]["score"]
    text = io.StringIO()
    call_command("analytics", "accesslog", "--tenant", scratch.INJECTED, "--date",
                 DAY.isoformat(), stdout=text)  # fmt: skip
    assert "大量アクセス" in text.getvalue() and "syn-clerk03" in text.getvalue()


def test_cli_refuses_a_bad_date(log):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("analytics", "accesslog", "--tenant", scratch.INJECTED, "--date", "2026-13-01")


def test_the_municipality_parameters_and_the_score_only_findings(log):
    from machi.analytics.accesslog.models import AccessLogSettings

    with tenant_context(scratch.INJECTED):
        AccessLogSettings.objects.create(pk=1, mass_residents=60, queue_min_score=0.5)
        run = services.accesslog_day_run(day=DAY, disabled_ids=log.disabled_ids)
        assert run.hits["mass_access"] == []  # 46 residents in 10 minutes: under 60 now
        anomalies = Finding.objects.filter(day=DAY, analysis="anomaly")
        hit_users = {h.actor_id for found in run.hits.values() for h in found}
        expected = {s.actor_id for s in run.scores if s.score >= 0.5} - hit_users
        assert expected and {f.actor_id for f in anomalies} == expected


def test_the_synthetic_log_is_a_valid_chain(log):
    from machi.audit.selectors import audit_verify

    with tenant_context(scratch.INJECTED):
        result = audit_verify()
    assert result.ok and result.entries >= len(log.entries)
