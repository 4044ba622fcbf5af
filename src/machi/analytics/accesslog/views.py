"""The security officer's review queue (不正アクセスの検知) and a finding's page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from machi.accounts.roles import Role
from machi.analytics.accesslog import selectors, services
from machi.analytics.accesslog.forms import QueueFilterForm, ReviewForm
from machi.analytics.accesslog.models import Analysis, Finding, FindingStatus
from machi.audit.services import Terminal
from machi.web.decorators import roles_required

ANALYSIS_LABELS = dict(Analysis.choices)


def _reason_lines(finding: Finding) -> list[str]:
    """The reasons in words, for the page."""
    lines = []
    found = finding.reasons.get("analysis") or {}
    for key, value in found.items():
        if isinstance(value, list):
            value = "、".join(str(v) for v in value)
        lines.append(f"{key}: {value}")
    for reason in finding.reasons.get("score") or []:
        if "feature" in reason:
            lines.append(
                _(
                    "%(feature)s が %(value)s"
                    "（本人の中央値 %(own)s、同僚の中央値 %(peer)s、z=%(z)s）"
                )
                % {
                    "feature": reason["feature"],
                    "value": reason["value"],
                    "own": "—" if reason.get("own_median") is None else reason["own_median"],
                    "peer": reason["peer_median"],
                    "z": reason["z"],
                }
            )
        elif "analysis" in reason:
            lines.append(
                _("%(analysis)s に該当（%(count)s 件）")
                % {
                    "analysis": ANALYSIS_LABELS.get(reason["analysis"], reason["analysis"]),
                    "count": reason["count"],
                }
            )
    return lines


@roles_required(Role.SECURITY_OFFICER)
def queue(request: HttpRequest, lg_code: str) -> HttpResponse:
    data = request.GET if request.GET else {"status": FindingStatus.OPEN}
    form = QueueFilterForm(data)
    status = analysis = ""
    if form.is_valid():
        status, analysis = form.cleaned_data["status"], form.cleaned_data["analysis"]
    findings = list(
        selectors.finding_queue(status=status, analysis=analysis)[: selectors.QUEUE_SIZE]
    )
    return render(request, "accesslog/queue.html", {"form": form, "findings": findings})


@roles_required(Role.SECURITY_OFFICER)
def finding(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    item = get_object_or_404(Finding, pk=pk)
    terminal = Terminal.from_request(request)
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.finding_review(
                finding=item, reviewer=request.user, terminal=terminal,
                decision=form.cleaned_data["decision"], note=form.cleaned_data["note"],
            )  # fmt: skip
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("確認の結果を記録しました。"))
            return redirect("accesslog:queue", lg_code=lg_code)
    entries = selectors.finding_evidence(finding=item, actor=request.user, terminal=terminal)
    return render(
        request,
        "accesslog/finding.html",
        {"finding": item, "entries": entries, "reasons": _reason_lines(item), "form": form},
        status=400 if form.errors else 200,
    )
