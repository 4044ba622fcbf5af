"""Public comment pages: the public list and page of a consultation (draft, documents,
period, the form while open, the result once published) and the staff's screens.

Public pages need no login; submitters' personal data never reaches them. Staff pages
are for department staff and supervisors of the consultation's department: another
department's consultation is 403, one that does not exist here 404 (another
municipality's consultations live in its own database; its staff are refused by the
tenancy middleware).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from machi.accounts.roles import Role
from machi.audit.services import audit_append
from machi.publiccomment import selectors, services
from machi.publiccomment.forms import (
    CommentForm,
    ConsultationForm,
    DocumentForm,
    GroupForm,
    ResultForm,
    error_summary,
    mark_errors,
)
from machi.publiccomment.models import CommentGroup, Consultation, IdentityRule, Phase
from machi.web.decorators import public_view, roles_required
from machi.web.language import language_switch

SESSION_KEY = "machi_publiccomment_receipt"
WORK_ROLES = (Role.DEPARTMENT_STAFF, Role.SUPERVISOR)


def _pdf(
    content: bytes, filename: str, *, attachment: bool = False, kind: str = "application/pdf"
) -> HttpResponse:
    response = HttpResponse(bytes(content), content_type=kind)
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{_quote(filename)}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


# --- public ---------------------------------------------------------------------------------


@public_view
@require_GET
def public_list(request: HttpRequest, lg_code: str) -> HttpResponse:
    if (switch := language_switch(request)) is not None:
        return switch
    return render(
        request, "publiccomment/public_list.html",
        {"groups": selectors.public_consultations(), "now": timezone.now()},
    )  # fmt: skip


def _public_page(
    request: HttpRequest, consultation: Consultation, form: CommentForm | None = None,
    *, status: int = 200, refused: str = "",
) -> HttpResponse:  # fmt: skip
    now = timezone.now()
    phase = consultation.phase_at(now)
    required = consultation.identity_rule == IdentityRule.REQUIRED
    if form is None and phase == Phase.OPEN:
        form = CommentForm(identity_required=required)
    if form is not None:
        mark_errors(form)
    context: dict[str, Any] = {
        "c": consultation, "phase": phase, "phase_label": Phase(phase).label, "form": form,
        "errors": error_summary(form) if form is not None else [], "refused": refused,
        "documents": list(consultation.documents.all()), "identity_required": required,
    }  # fmt: skip
    if phase == Phase.RESULT:
        context["result"] = selectors.result_get(consultation=consultation)
    return render(request, "publiccomment/public_detail.html", context, status=status)


@public_view
@require_http_methods(["GET", "POST"])
@never_cache
def public_detail(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    consultation = selectors.public_consultation_get(pk=pk)
    if consultation is None:
        raise Http404(_("案件が見つかりません。"))
    if request.method == "GET":
        if (switch := language_switch(request)) is not None:
            return switch
        return _public_page(request, consultation)
    required = consultation.identity_rule == IdentityRule.REQUIRED
    form = CommentForm(request.POST, request.FILES, identity_required=required)
    if form.is_spam:
        form.is_valid()
        form.add_error("website", _("この欄には何も入力しないでください。"))
        return _public_page(request, consultation, form, status=400)
    if not form.is_valid():
        return _public_page(request, consultation, form, status=400)
    upload = form.cleaned_data["attachment"]
    if upload is not None and upload.size > services.MAX_ATTACHMENT:
        form.add_error("attachment", _("添付ファイルは5MB以下にしてください。"))
        return _public_page(request, consultation, form, status=400)
    data = form.cleaned_data
    try:
        comment = services.comment_submit(
            consultation=consultation,
            submission=services.Submission(
                body=data["body"], name=data["name"], address=data["address"],
                contact=data["contact"], attachment_name=getattr(upload, "name", ""),
                attachment=upload.read() if upload is not None else b"",
            ),
        )  # fmt: skip
    except services.ConsultationError as error:
        if error.field and error.field in form.fields:
            form.add_error(error.field, error.messages[0])
            return _public_page(request, consultation, form, status=400)
        return _public_page(request, consultation, None, status=409, refused=error.messages[0])
    request.session[SESSION_KEY] = {
        "consultation": consultation.pk,
        "receipt": comment.receipt_number,
    }
    return redirect("publiccomment:public_done", lg_code=lg_code, pk=consultation.pk)


@public_view
@require_GET
@never_cache
def public_done(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    consultation = selectors.public_consultation_get(pk=pk)
    state = request.session.get(SESSION_KEY) or {}
    if consultation is None or state.get("consultation") != pk:
        return redirect("publiccomment:public_detail", lg_code=lg_code, pk=pk)
    return render(
        request, "publiccomment/public_done.html", {"c": consultation, "receipt": state["receipt"]}
    )


@public_view
@require_GET
def public_document(request: HttpRequest, lg_code: str, pk: int, document_pk: int) -> HttpResponse:
    document = selectors.public_document_get(consultation_pk=pk, pk=document_pk)
    if document is None:
        raise Http404(_("資料が見つかりません。"))
    return _pdf(document.content, document.filename)


# --- staff ----------------------------------------------------------------------------------


def _departments(request: HttpRequest) -> dict[str, str]:
    return services.staff_departments(request.user)


def _consultation_or_403(request: HttpRequest, pk: int) -> Consultation:
    consultation = selectors.staff_consultation_get(pk=pk)
    if consultation is None:
        raise Http404(_("案件が見つかりません。"))
    if consultation.department not in _departments(request):
        raise PermissionDenied(_("この案件を扱う権限がありません（担当課の職員ではありません）。"))
    return consultation


def _staff_url(lg_code: str, pk: int) -> str:
    return reverse("publiccomment:staff_detail", args=[lg_code, pk])


@roles_required(*WORK_ROLES)
@require_GET
def staff_list(request: HttpRequest, lg_code: str) -> HttpResponse:
    departments = _departments(request)
    consultations = selectors.staff_consultations(departments=list(departments))
    now = timezone.now()
    rows = [(c, Phase(c.phase_at(now)).label) for c in consultations]
    return render(request, "publiccomment/staff_list.html", {"rows": rows})


def _apply_error(form: Any, error: services.ConsultationError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.messages[0])


@roles_required(*WORK_ROLES)
@require_http_methods(["GET", "POST"])
def staff_create(request: HttpRequest, lg_code: str) -> HttpResponse:
    departments = _departments(request)
    form = ConsultationForm(request.POST or None, departments=departments)
    if request.method == "POST" and form.is_valid():
        try:
            consultation = services.consultation_create(**form.cleaned_data, actor=request.user)
        except services.ConsultationError as error:
            _apply_error(form, error)
        else:
            messages.success(
                request, _("案件を作成しました。資料（PDF）を添付してから公示してください。")
            )
            return redirect(_staff_url(lg_code, consultation.pk))
    mark_errors(form)
    status = 400 if form.is_bound else 200
    return render(
        request, "publiccomment/staff_form.html",
        {"form": form, "errors": error_summary(form)}, status=status,
    )  # fmt: skip


def _staff_page(
    request: HttpRequest, consultation: Consultation, *, status: int = 200, **forms: Any
) -> HttpResponse:
    now = timezone.now()
    phase = consultation.phase_at(now)
    comments = selectors.staff_comments(consultation=consultation) if phase != Phase.DRAFT else []
    if comments:
        # The submitters' names and addresses are on this page: who saw them is recorded.
        audit_append(
            action="publiccomment.comments.viewed", actor=request.user,
            object_type="consultation", object_id=str(consultation.pk), function="publiccomment",
            detail={"comments": len(comments)},
        )  # fmt: skip
    edit = forms.get("edit")
    if edit is None and phase == Phase.DRAFT:
        edit = ConsultationForm(
            departments={consultation.department: consultation.department_name},
            initial={"title": consultation.title, "summary": consultation.summary,
                     "department": consultation.department, "first_day": consultation.first_day,
                     "last_day": consultation.last_day,
                     "short_period_reason": consultation.short_period_reason,
                     "identity_rule": consultation.identity_rule},
        )  # fmt: skip
    all_forms = {
        "edit": edit,
        "document": forms.get("document") or DocumentForm(),
        "group": forms.get("group") or GroupForm(),
        "result": forms.get("result") or ResultForm(),
    }
    for form in all_forms.values():
        if form is not None:
            mark_errors(form)
    groups = list(consultation.groups.all())
    context = {
        "c": consultation, "phase": phase, "phase_label": Phase(phase).label,
        "documents": list(consultation.documents.all()), "comments": comments,
        "groups": groups, "forms": all_forms, "refused": forms.get("refused", ""),
        "errors": [e for f in all_forms.values() if f is not None for e in error_summary(f)],
    }  # fmt: skip
    return render(request, "publiccomment/staff_detail.html", context, status=status)


@roles_required(*WORK_ROLES)
@require_GET
def staff_detail(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    return _staff_page(request, _consultation_or_403(request, pk))


@roles_required(*WORK_ROLES)
@require_POST
def staff_action(request: HttpRequest, lg_code: str, pk: int, action: str) -> HttpResponse:
    consultation = _consultation_or_403(request, pk)
    user = request.user
    form: Any = None
    key = action
    try:
        if action == "edit":
            form = ConsultationForm(
                request.POST, departments={consultation.department: consultation.department_name}
            )
            if form.is_valid():
                data = {k: v for k, v in form.cleaned_data.items() if k != "department"}
                services.consultation_update(consultation=consultation, actor=user, **data)
                messages.success(request, _("案件を更新しました。"))
        elif action == "document":
            form = DocumentForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                if upload.size > services.MAX_DOCUMENT:
                    raise services.ConsultationError(
                        _("PDF ファイルは10MB以下にしてください。"), "file"
                    )
                services.document_add(
                    consultation=consultation, title=form.cleaned_data["title"],
                    filename=upload.name, content=upload.read(), actor=user,
                )  # fmt: skip
                messages.success(request, _("資料を添付しました。"))
        elif action == "document-delete":
            chosen = request.POST.get("document", "")
            document = consultation.documents.filter(
                pk=int(chosen) if chosen.isdigit() else 0
            ).first()
            if document is None:
                raise Http404(_("資料が見つかりません。"))
            services.document_delete(document=document, actor=user)
            messages.success(request, _("資料を削除しました。"))
        elif action == "publish":
            services.consultation_publish(consultation=consultation, actor=user)
            messages.success(request, _("案件を公示しました。"))
        elif action == "group":
            key = "group"
            form = GroupForm(request.POST)
            group = None
            if (group_pk := request.POST.get("group", "")).isdigit():
                group = consultation.groups.filter(pk=int(group_pk)).first()
                if group is None:
                    raise Http404(_("意見の概要が見つかりません。"))
            if form.is_valid():
                services.group_save(
                    consultation=consultation, group=group, actor=user, **form.cleaned_data
                )
                messages.success(request, _("意見の概要を保存しました。"))
        elif action == "assign":
            target = request.POST.get("group", "")
            group: CommentGroup | None = None
            if target.isdigit():
                group = consultation.groups.filter(pk=int(target)).first()
                if group is None:
                    raise services.ConsultationError(_("意見の概要を選んでください。"))
            elif target != "none":
                raise services.ConsultationError(_("意見の概要を選んでください。"))
            ids = [int(v) for v in request.POST.getlist("comments") if v.isdigit()]
            moved = services.comments_assign(
                consultation=consultation, comment_ids=ids, group=group, actor=user
            )
            messages.success(request, _("%(count)d件の意見を振り分けました。") % {"count": moved})
        elif action == "result":
            form = ResultForm(request.POST)
            if form.is_valid():
                services.result_publish(
                    consultation=consultation, note=form.cleaned_data["note"], actor=user
                )
                messages.success(request, _("結果を公示しました。"))
        else:
            raise Http404(_("この操作はありません。"))
    except services.ConsultationError as error:
        if form is not None:
            _apply_error(form, error)
            return _staff_page(request, consultation, status=400, **{key: form})
        return _staff_page(request, consultation, status=400, refused=error.messages[0])
    if form is not None and form.errors:
        return _staff_page(request, consultation, status=400, **{key: form})
    return redirect(_staff_url(lg_code, consultation.pk))


@roles_required(*WORK_ROLES)
@require_GET
def staff_document(request: HttpRequest, lg_code: str, pk: int, document_pk: int) -> HttpResponse:
    consultation = _consultation_or_403(request, pk)
    document = consultation.documents.model.objects.filter(
        consultation=consultation, pk=document_pk
    ).first()
    if document is None:
        raise Http404(_("資料が見つかりません。"))
    return _pdf(document.content, document.filename)


@roles_required(*WORK_ROLES)
@require_GET
def staff_attachment(request: HttpRequest, lg_code: str, pk: int, comment_pk: int) -> HttpResponse:
    consultation = _consultation_or_403(request, pk)
    comment = selectors.staff_comment_attachment(consultation=consultation, pk=comment_pk)
    if comment is None:
        raise Http404(_("添付ファイルが見つかりません。"))
    audit_append(
        action="publiccomment.attachment.viewed", actor=request.user, object_type="consultation",
        object_id=str(consultation.pk), function="publiccomment",
        detail={"receipt": comment.receipt_number},
    )  # fmt: skip
    return _pdf(comment.attachment, comment.attachment_name or comment.receipt_number,
                attachment=True, kind=comment.attachment_type)  # fmt: skip
