"""Staff screens of a request (要望・通報): its page with the whole history, the place and
the actions (answer, status, merge, re-route, hide), the reporter's contact details behind
an audited 「連絡先を表示」, and the response templates (定型文).

Who: department staff and supervisors of the owning department; the triage queue
(no department) belongs to supervisors. A request of another department is 403, one
that does not exist in this municipality 404 (another municipality's ids are not here:
its requests live in its own database). Every action is a POST through the services,
which check the right again; a refusal shows the service's message.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from machi.accounts.roles import Role
from machi.audit.services import Terminal
from machi.requests import selectors, services
from machi.requests.forms_staff import (
    AnswerForm,
    HideForm,
    MergeForm,
    RerouteForm,
    ResponseTemplateForm,
    StatusForm,
)
from machi.requests.models import Category, Request, ResponseTemplate
from machi.web.decorators import roles_required

WORK_ROLES = (Role.DEPARTMENT_STAFF, Role.SUPERVISOR)
TEMPLATE_ROLES = (Role.SUPERVISOR, Role.MUNICIPALITY_ADMIN)
ACTIONS = ("answer", "status", "merge", "reroute", "hide")


def _departments(request: HttpRequest) -> list[tuple[str, str]]:
    from machi.accounts.models import Department

    return list(
        Department.objects.filter(municipality=request.user.municipality)
        .order_by("id")
        .values_list("code", "name")
    )


def _request_or_403(request: HttpRequest, pk: int) -> Request:
    found = selectors.staff_request_get(pk=pk)
    if found is None:
        raise Http404(_("要望が見つかりません。"))
    if not selectors.staff_may_work(staff=request.user, request=found):
        raise PermissionDenied(_("この要望を扱う権限がありません（担当課の職員ではありません）。"))
    return found


def _detail_url(lg_code: str, pk: int) -> str:
    return reverse("requests:staff_request", args=[lg_code, pk])


def _detail_context(
    request: HttpRequest, found: Request, forms: dict[str, Any] | None = None
) -> dict[str, Any]:
    templates = selectors.response_templates_for(category=found.category)
    answer_initial: dict[str, str] = {}
    chosen = request.GET.get("template", "")
    if chosen.isdigit():
        answer_initial = {
            "text": next((t.body for t in templates if t.pk == int(chosen)), ""),
            "visibility": "public",
        }
    others = [d for d in _departments(request) if d[0] != found.department]
    forms = forms or {}
    return {
        "req": found,
        "updates": list(found.updates.all()),
        "answers": selectors.request_attribute_answers(request=found),
        "duplicates": list(found.duplicates.all()),
        "templates": templates,
        "answer_form": forms.get("answer") or AnswerForm(initial=answer_initial),
        "status_form": forms.get("status") or StatusForm(initial={"status": found.status}),
        "merge_form": forms.get("merge") or MergeForm(),
        "reroute_form": forms.get("reroute") or RerouteForm(departments=others),
        "hide_form": forms.get("hide") or HideForm(),
    }


@require_GET
@never_cache
@roles_required(*WORK_ROLES)
def request_detail(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    found = _request_or_403(request, pk)
    return render(request, "requests/staff/request.html", _detail_context(request, found))


def _act(request: HttpRequest, found: Request, action: str, terminal: Terminal) -> str:
    """Run one action; its success message, or RequestError with the service's refusal."""
    actor = request.user
    if action == "answer":
        form = AnswerForm(request.POST)
        _valid(form)
        public = form.cleaned_data["visibility"] == "public"
        services.request_answer(
            request=found, text=form.cleaned_data["text"], public=public, actor=actor,
            terminal=terminal,
        )  # fmt: skip
        return _("公開の回答を登録しました。") if public else _("内部メモを登録しました。")
    if action == "status":
        form = StatusForm(request.POST)
        _valid(form)
        update = services.request_status_change(
            request=found, status=form.cleaned_data["status"], text=form.cleaned_data["text"],
            actor=actor, terminal=terminal,
        )  # fmt: skip
        return _("状態を「%(status)s」にしました。") % {"status": update.get_status_display()}
    if action == "merge":
        form = MergeForm(request.POST)
        _valid(form)
        code = form.cleaned_data["original"].strip().upper()
        original = Request.objects.filter(public_code=code).first()
        if original is None:
            raise services.RequestError(
                _("受付番号 %(code)s の要望はありません。") % {"code": code}
            )
        services.request_merge_duplicate(
            request=found, original=original, text=form.cleaned_data["text"], actor=actor,
            terminal=terminal,
        )  # fmt: skip
        return _("受付番号 %(code)s の重複として統合しました。") % {"code": original.public_code}
    if action == "reroute":
        form = RerouteForm(request.POST, departments=_departments(request))
        _valid(form)
        update = services.request_reroute(
            request=found, department=form.cleaned_data["department"],
            reason=form.cleaned_data["reason"], actor=actor, terminal=terminal,
        )  # fmt: skip
        return _("%(name)sに振り替えました。") % {"name": update.request.department_name}
    form = HideForm(request.POST)
    _valid(form)
    services.request_hide(
        request=found, reason=form.cleaned_data["reason"], actor=actor, terminal=terminal
    )
    return _("公開ページから非公開にしました。")


def _valid(form: Any) -> None:
    if not form.is_valid():
        problems = [f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()]
        raise services.RequestError(" ".join(problems))


@require_POST
@roles_required(*WORK_ROLES)
def request_action(request: HttpRequest, lg_code: str, pk: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404(_("操作が見つかりません。"))
    found = _request_or_403(request, pk)
    try:
        notice = _act(request, found, action, Terminal.from_request(request))
    except services.RequestError as refusal:
        messages.error(request, " ".join(refusal.messages))
        return redirect(_detail_url(lg_code, pk))
    messages.success(request, notice)
    if action == "reroute":
        # The request left this department's inbox; a supervisor of both may follow it.
        found.refresh_from_db()
        if not selectors.staff_may_work(staff=request.user, request=found):
            return redirect(reverse("counter:tasks", args=[lg_code]))
    return redirect(_detail_url(lg_code, pk))


@require_POST
@never_cache
@roles_required(*WORK_ROLES)
def reporter_reveal(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    """The reporter's contact details, once, on this response (not kept in the session)."""
    found = _request_or_403(request, pk)
    reporter = selectors.request_reporter_reveal(
        request=found, actor=request.user, terminal=Terminal.from_request(request)
    )
    context = _detail_context(request, found)
    context["reporter"] = reporter
    return render(request, "requests/staff/request.html", context)


# --- response templates ----------------------------------------------------------------


def _categories() -> list[tuple[str, str]]:
    return [(str(pk), name) for pk, name in Category.objects.values_list("pk", "name")]


def _template_save(
    request: HttpRequest, lg_code: str, template: ResponseTemplate | None
) -> tuple[ResponseTemplateForm, HttpResponse | None]:
    form = ResponseTemplateForm(request.POST, categories=_categories())
    if form.is_valid():
        data = form.cleaned_data
        category = (
            Category.objects.filter(pk=data["category"]).first() if data["category"] else None
        )
        try:
            services.response_template_save(
                actor=request.user, title=data["title"], body=data["body"], category=category,
                template=template, terminal=Terminal.from_request(request),
            )  # fmt: skip
        except services.RequestError as refusal:
            form.add_error(None, " ".join(refusal.messages))
        else:
            messages.success(request, _("定型文「%(title)s」を保存しました。") % data)
            return form, redirect(reverse("requests:staff_templates", args=[lg_code]))
    return form, None


@require_http_methods(["GET", "POST"])
@never_cache
@roles_required(*TEMPLATE_ROLES)
def templates(request: HttpRequest, lg_code: str) -> HttpResponse:
    form = ResponseTemplateForm(categories=_categories())
    status = 200
    if request.method == "POST":
        form, done = _template_save(request, lg_code, None)
        if done:
            return done
        status = 400
    context = {"templates": selectors.response_templates_for(category=None), "form": form}
    return render(request, "requests/staff/templates.html", context, status=status)


@require_http_methods(["GET", "POST"])
@never_cache
@roles_required(*TEMPLATE_ROLES)
def template_edit(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    template = ResponseTemplate.objects.filter(pk=pk).first()
    if template is None:
        raise Http404(_("定型文が見つかりません。"))
    status = 200
    if request.method == "POST":
        form, done = _template_save(request, lg_code, template)
        if done:
            return done
        status = 400
    else:
        form = ResponseTemplateForm(
            categories=_categories(),
            initial={"title": template.title, "body": template.body,
                     "category": template.category_id or ""},
        )  # fmt: skip
    context = {"template": template, "form": form}
    return render(request, "requests/staff/template_edit.html", context, status=status)


@require_POST
@roles_required(*TEMPLATE_ROLES)
def template_delete(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    template = ResponseTemplate.objects.filter(pk=pk).first()
    if template is None:
        raise Http404(_("定型文が見つかりません。"))
    try:
        services.response_template_delete(
            actor=request.user, template=template, terminal=Terminal.from_request(request)
        )
    except services.RequestError as refusal:
        messages.error(request, " ".join(refusal.messages))
    else:
        messages.success(
            request, _("定型文「%(title)s」を削除しました。") % {"title": template.title}
        )
    return redirect(reverse("requests:staff_templates", args=[lg_code]))
