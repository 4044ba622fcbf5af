"""FAQ administration (FAQ の管理): the answers with their categories, draft or
published state and review date, and the municipality's synonyms.

Editors are 担当課職員, 監督者 and 自治体管理者, as ``services.faq`` requires; a counter
clerk searches the FAQ while answering but does not edit it.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from machi.accounts.models import Department
from machi.accounts.roles import Role
from machi.audit.services import Terminal
from machi.contact import forms
from machi.contact.markup import body_html
from machi.contact.models import FaqAnswer, FaqCategory, FaqStatus, FaqSynonym
from machi.contact.services.faq import (
    faq_answer_save,
    faq_category_create,
    faq_category_delete,
    faq_category_move,
    faq_category_rename,
    faq_load_default,
    faq_synonym_add,
    faq_synonym_delete,
)
from machi.contact.services.tickets import TicketError
from machi.web.decorators import roles_required

EDITOR_ROLES = (Role.DEPARTMENT_STAFF, Role.SUPERVISOR, Role.MUNICIPALITY_ADMIN)
PAGE_SIZE = 50

editor_required = roles_required(*EDITOR_ROLES)


def _departments(request: HttpRequest) -> list[Department]:
    return list(Department.objects.filter(municipality=request.user.municipality).order_by("id"))


@require_GET
@never_cache
@editor_required
def faq_list(request: HttpRequest, lg_code: str) -> HttpResponse:
    categories = list(FaqCategory.objects.all())
    form = forms.FaqFilterForm(request.GET or None, categories=categories)
    answers = FaqAnswer.objects.select_related("category")
    today = timezone.localdate()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            text = data["q"]
            answers = answers.filter(Q(question__contains=text) | Q(keywords__contains=text))
        if data["category"]:
            answers = answers.filter(category__code=data["category"])
        if data["status"]:
            answers = answers.filter(status=data["status"])
        if data["review"]:
            answers = answers.filter(review_on__lt=today)
    page = Paginator(answers.order_by("category__order", "id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    overdue = FaqAnswer.objects.filter(review_on__lt=today).count()
    return render(
        request,
        "contact/staff/faq_list.html",
        {"form": form, "page": page, "today": today, "overdue": overdue,
         "query_string": query.urlencode(), "faq_empty": not FaqAnswer.objects.exists()},
    )  # fmt: skip


@require_POST
@editor_required
def faq_default_load(request: HttpRequest, lg_code: str) -> HttpResponse:
    """A new municipality's FAQ starts from the default set, as drafts to check."""
    loaded = faq_load_default(
        status=FaqStatus.DRAFT, actor=request.user, terminal=Terminal.from_request(request)
    )
    if loaded:
        messages.success(
            request,
            _(
                "標準の FAQ %(count)d 件を下書きとして読み込みました。"
                "料金・場所・時間を確かめてから公開してください。"
            )
            % {"count": loaded},
        )
    else:
        messages.error(request, _("FAQ がすでにあるため、標準の FAQ は読み込みませんでした。"))
    return redirect("contact:faq_list", lg_code)


@require_http_methods(["GET", "POST"])
@never_cache
@editor_required
def faq_edit(request: HttpRequest, lg_code: str, pk: int | None = None) -> HttpResponse:
    instance = None
    if pk is not None:
        instance = FaqAnswer.objects.select_related("category").filter(pk=pk).first()
        if instance is None:
            raise Http404(_("FAQ が見つかりません。"))
    departments = _departments(request)
    if request.method == "GET":
        form = forms.FaqAnswerForm(instance=instance, departments=departments)
        status = 200
    else:
        form = forms.FaqAnswerForm(
            request.POST, instance=instance or FaqAnswer(), departments=departments
        )
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = faq_answer_save(
                    category=data["category"], question=data["question"], answer=data["answer"],
                    keywords=data["keywords"], department=data["department"],
                    status=data["status"], review_on=data["review_on"], instance=instance,
                    actor=request.user, terminal=Terminal.from_request(request),
                )  # fmt: skip
            except TicketError as refusal:
                form.add_error(None, " ".join(refusal.messages))
            else:
                messages.success(request, _("FAQ「%(q)s」を保存しました。") % {"q": saved.question})
                return redirect("contact:faq_edit", lg_code, saved.pk)
        status = 400
        if instance is not None:
            instance.refresh_from_db()  # the page shows what is stored, not the refused edit
    preview = body_html(instance.answer, "markdown") if instance is not None else ""
    return render(
        request,
        "contact/staff/faq_edit.html",
        {"form": form, "answer": instance, "preview": preview, "today": timezone.localdate()},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@never_cache
@editor_required
def faq_synonyms(request: HttpRequest, lg_code: str) -> HttpResponse:
    form = forms.SynonymForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound:
        if form.is_valid():
            try:
                faq_synonym_add(words=form.cleaned_data["words"], actor=request.user,
                                terminal=Terminal.from_request(request))  # fmt: skip
            except TicketError as refusal:
                form.add_error("words", " ".join(refusal.messages))
            else:
                messages.success(request, _("同義語を追加しました。"))
                return redirect("contact:faq_synonyms", lg_code)
        status = 400
    synonyms = list(FaqSynonym.objects.order_by("id"))
    return render(
        request, "contact/staff/faq_synonyms.html", {"form": form, "synonyms": synonyms},
        status=status,
    )  # fmt: skip


@require_POST
@editor_required
def faq_synonym_remove(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    synonym = FaqSynonym.objects.filter(pk=pk).first()
    if synonym is None:
        raise Http404(_("同義語が見つかりません。"))
    faq_synonym_delete(synonym=synonym, actor=request.user, terminal=Terminal.from_request(request))
    messages.success(request, _("同義語「%(words)s」を削除しました。") % {"words": synonym.words})
    return redirect("contact:faq_synonyms", lg_code)


# ---------------------------------------------------------------- categories


def _categories_page(request: HttpRequest, form: forms.FaqCategoryForm, status: int, **extra):
    # (an aggregate drops Meta.ordering: order explicitly)
    categories = list(
        FaqCategory.objects.annotate(answer_count=Count("answers")).order_by("order", "id")
    )
    return render(
        request, "contact/staff/faq_categories.html",
        {"form": form, "categories": categories, **extra}, status=status,
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
@never_cache
@editor_required
def faq_categories(request: HttpRequest, lg_code: str) -> HttpResponse:
    """The categories in their order, each renamed, moved or deleted in place; a new
    one added at the end."""
    form = forms.FaqCategoryForm(request.POST if request.method == "POST" else None)
    if not form.is_bound:
        return _categories_page(request, form, 200)
    if form.is_valid():
        try:
            category = faq_category_create(
                code=form.cleaned_data["code"], name=form.cleaned_data["name"],
                actor=request.user, terminal=Terminal.from_request(request),
            )  # fmt: skip
        except TicketError as refusal:
            form.add_error("code", " ".join(refusal.messages))
        else:
            added = _("分類「%(name)s」を追加しました。") % {"name": category.name}
            messages.success(request, added)
            return redirect("contact:faq_categories", lg_code)
    return _categories_page(request, form, 400)


@require_POST
@editor_required
def faq_category_action(request: HttpRequest, lg_code: str, pk: int, action: str) -> HttpResponse:
    category = FaqCategory.objects.filter(pk=pk).first()
    if category is None:
        raise Http404(_("分類が見つかりません。"))
    if action not in ("rename", "up", "down", "delete"):
        raise Http404(_("操作が見つかりません。"))
    terminal = Terminal.from_request(request)
    try:
        if action == "rename":
            rename = forms.FaqCategoryRenameForm(request.POST)
            if not rename.is_valid():
                raise TicketError(_("分類名を 100 文字以内で入力してください。"))
            faq_category_rename(category=category, name=rename.cleaned_data["name"],
                                actor=request.user, terminal=terminal)  # fmt: skip
            done = _("分類名を「%(name)s」に変えました。")
        elif action in ("up", "down"):
            faq_category_move(category=category, up=action == "up", actor=request.user,
                              terminal=terminal)  # fmt: skip
            done = _("分類「%(name)s」の順番を変えました。")
        else:
            faq_category_delete(category=category, actor=request.user, terminal=terminal)
            done = _("分類「%(name)s」を削除しました。")
    except TicketError as refusal:
        return _categories_page(
            request, forms.FaqCategoryForm(), 400,
            refusal=" ".join(refusal.messages), refused_pk=category.pk,
        )  # fmt: skip
    if action == "rename":
        category.refresh_from_db()
    messages.success(request, done % {"name": category.name})
    return redirect("contact:faq_categories", lg_code)
