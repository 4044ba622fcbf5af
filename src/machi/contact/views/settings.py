"""コールセンターの設定: the opening hours per weekday and the SLA targets per
priority, on one page for 自治体管理者 and 監督者 (the roles ``services.sla`` accepts).

The whole form is saved in one transaction through the services (which check and audit
every change again): a refusal of any part leaves everything as it was. Closed days are
not kept here but in the procedure catalogue, shared with the filing deadlines.
"""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from machi.accounts.roles import Role
from machi.audit.services import Terminal
from machi.contact.calendar import hours_from_settings
from machi.contact.forms import SLA_DEFAULTS, SLA_TARGETS, ContactSettingsForm, hours_text
from machi.contact.forms_public import mark_errors
from machi.contact.models import ContactSettings, Priority, SlaPolicy
from machi.contact.services.sla import contact_hours_set, sla_policy_set
from machi.contact.services.tickets import TicketError
from machi.procedures.selectors import catalogue_effective
from machi.tenancy.context import current_tenant_alias
from machi.web.decorators import roles_required

admin_required = roles_required(Role.MUNICIPALITY_ADMIN, Role.SUPERVISOR)


def _day_minutes(hours: dict) -> int | None:
    """Open minutes of the usual working day (the most frequent length), for showing
    targets as business days; None when the center is never open."""
    lengths = [
        sum((b.hour * 60 + b.minute) - (a.hour * 60 + a.minute) for a, b in intervals)
        for intervals in hours.values()
    ]
    counts = Counter(length for length in lengths if length > 0)
    if not counts:
        return None
    return max(counts, key=lambda length: (counts[length], length))


def _stored() -> tuple[dict[str, str], dict[int, tuple[int, int, int]], int | None]:
    settings = ContactSettings.objects.filter(pk=1).first()
    hours = hours_from_settings(settings.hours if settings else {})
    texts = {str(weekday): hours_text(hours.get(weekday, ())) for weekday in range(7)}
    policies = {
        p.priority: (p.first_response_minutes, p.resolution_minutes, p.warn_before_minutes)
        for p in SlaPolicy.objects.all()
    }
    return texts, policies, _day_minutes(hours)


@require_http_methods(["GET", "POST"])
@never_cache
@admin_required
def contact_settings(request: HttpRequest, lg_code: str) -> HttpResponse:
    texts, policies, day_minutes = _stored()
    initial: dict[str, object] = {f"hours_{d}": text for d, text in texts.items()}
    for priority in Priority.values:
        values = policies.get(priority, SLA_DEFAULTS[priority])
        for (key, _label), value in zip(SLA_TARGETS, values, strict=True):
            initial[f"sla_{priority}_{key}"] = value
    form = ContactSettingsForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        day_minutes=day_minutes,
    )
    if form.is_bound and form.is_valid():
        terminal = Terminal.from_request(request)
        hours = form.hours()
        changed = [p for p, values in form.targets().items() if policies.get(p) != values]
        try:
            with transaction.atomic(using=current_tenant_alias()):
                if hours != texts:
                    contact_hours_set(hours=hours, actor=request.user, terminal=terminal)
                for priority in changed:
                    first, resolution, warn = form.targets()[priority]
                    sla_policy_set(
                        priority=priority, first_response_minutes=first,
                        resolution_minutes=resolution, warn_before_minutes=warn,
                        actor=request.user, terminal=terminal,
                    )  # fmt: skip
        except TicketError as refusal:
            form.add_error(None, " ".join(refusal.messages))
        else:
            if hours != texts:
                messages.success(
                    request,
                    _("受付時間を保存し、対応中の問い合わせの期限を計算し直しました。"),
                )
            if changed:
                names = "・".join(str(Priority(p).label) for p in sorted(changed, reverse=True))
                messages.success(
                    request,
                    _(
                        "SLA の目標を保存しました（%(priorities)s）。"
                        "新しい目標はこれから受け付ける問い合わせに使います。"
                    )
                    % {"priorities": names},
                )
            if hours == texts and not changed:
                messages.info(request, _("変更はありませんでした。"))
            return redirect("contact:settings", lg_code)
    mark_errors(form)
    today = timezone.localdate()
    closed = sorted(day for day in catalogue_effective().catalogue.closed_days if day >= today)
    return render(
        request,
        "contact/staff/settings.html",
        {
            "form": form,
            "day_minutes": day_minutes,
            "unset": [Priority(p).label for p in sorted(Priority.values, reverse=True)
                      if p not in policies],
            "closed_days": closed,
            "may_edit_catalogue": request.user.has_role(Role.MUNICIPALITY_ADMIN),
        },
        status=400 if form.is_bound else 200,
    )  # fmt: skip
