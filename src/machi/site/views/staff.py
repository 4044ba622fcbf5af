"""The staff's screens of the website (/{lg}/site/staff/…): the page tree, news,
editing (versions), approval, history with diff and rollback, images and files.

Authors (ウェブ作成者) and approvers (ウェブ承認者) reach them; what each may do is
checked again by the services. Another municipality's staff are refused by the tenancy
middleware; an id that is not in this municipality's database is 404.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from machi.accounts.roles import Role
from machi.audit.services import Terminal
from machi.site import selectors, services
from machi.site.models import (
    LANGUAGE_CODES,
    Attachment,
    Image,
    NewsCategory,
    NewsItem,
    Page,
    Version,
)
from machi.web.decorators import roles_required

WEB_ROLES = (Role.WEB_AUTHOR, Role.WEB_APPROVER)
LANGUAGE_LABELS = {"ja": "日本語（必須）", "ja-easy": "やさしい日本語", "en": "English"}
UPLOAD_MAX = 20 * 1024 * 1024


def _texts(request: HttpRequest, field: str) -> dict[str, str]:
    return {code: request.POST.get(f"{field}_{code}", "") for code in LANGUAGE_CODES}


def _when(request: HttpRequest, name: str) -> datetime.datetime | None:
    raw = (request.POST.get(name) or "").strip()
    if not raw:
        return None
    value = parse_datetime(raw)
    if value is None:
        raise services.SiteError(_("日時の形式が正しくありません（例: 2026-04-01T09:00）。"))
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _local(value: datetime.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M") if value else ""


def _errors(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _language_rows(title: dict, body: dict) -> list[dict[str, str]]:
    return [
        {"code": c, "label": LANGUAGE_LABELS[c], "title": title.get(c, ""), "body": body.get(c, "")}
        for c in LANGUAGE_CODES
    ]


def _get(model: type, pk: int) -> Any:
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise Http404("not in this municipality")
    return found


@roles_required(*WEB_ROLES)
def tree(request: HttpRequest, lg_code: str) -> HttpResponse:
    return render(
        request, "site/staff/tree.html",
        {"tree": selectors.page_tree(), "pending": len(selectors.pending_versions())},
    )  # fmt: skip


@roles_required(Role.WEB_AUTHOR)
@require_http_methods(["GET", "POST"])
def page_new(request: HttpRequest, lg_code: str) -> HttpResponse:
    errors: list[str] = []
    if request.method == "POST":
        parent_id = request.POST.get("parent") or None
        try:
            parent = _get(Page, int(parent_id)) if parent_id else None
            page = services.page_create(
                actor=request.user, parent=parent, slug=request.POST.get("slug", ""),
                title=_texts(request, "title"), body=_texts(request, "body"),
                position=int(request.POST.get("position") or 0),
                note=request.POST.get("note", ""),
            )  # fmt: skip
        except (ValueError, ValidationError) as exc:
            errors = _errors(exc) if isinstance(exc, ValidationError) else [_("並び順は数字です。")]
        else:
            messages.success(request, _("ページを作成しました（下書き）。"))
            return redirect("site:staff_page", lg_code, page.pk)
    return render(
        request, "site/staff/page_new.html",
        {"errors": errors, "tree": selectors.page_tree(), "form": request.POST,
         "languages": _language_rows(_texts(request, "title"), _texts(request, "body"))},
        status=400 if errors else 200,
    )  # fmt: skip


def _edit(
    request: HttpRequest, lg_code: str, owner: Page | NewsItem, template: str
) -> HttpResponse:
    versions = selectors.versions_of(owner)
    latest = versions[0] if versions else None
    errors: list[str] = []
    title = latest.title if latest else owner.title
    body = latest.body if latest else owner.body
    publish_at = latest.publish_at if latest else None
    unpublish_at = latest.unpublish_at if latest else None
    if request.method == "POST":
        if not request.user.has_role(Role.WEB_AUTHOR):
            raise PermissionDenied(_("この操作をする役割がありません。"))
        title, body = _texts(request, "title"), _texts(request, "body")
        try:
            publish_at, unpublish_at = _when(request, "publish_at"), _when(request, "unpublish_at")
            version = services.version_save(
                actor=request.user, owner=owner, title=title, body=body,
                publish_at=publish_at, unpublish_at=unpublish_at,
                note=request.POST.get("note", ""),
            )  # fmt: skip
            if request.POST.get("submit_for_approval"):
                services.version_submit(actor=request.user, version=version)
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(
                request,
                _("第%(n)s版を保存し、承認を依頼しました。") % {"n": version.number}
                if request.POST.get("submit_for_approval")
                else _("第%(n)s版を下書きとして保存しました。") % {"n": version.number},
            )
            return redirect(request.path)
    return render(
        request, template,
        {"owner": owner, "versions": versions, "errors": errors,
         "languages": _language_rows(title or {}, body or {}),
         "publish_at": _local(publish_at),
         "unpublish_at": _local(unpublish_at),
         "is_approver": request.user.has_role(Role.WEB_APPROVER),
         "is_author": request.user.has_role(Role.WEB_AUTHOR)},
        status=400 if errors else 200,
    )  # fmt: skip


@roles_required(*WEB_ROLES)
@require_http_methods(["GET", "POST"])
def page_edit(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    page = _get(Page, pk)
    if request.method == "POST" and request.POST.get("action") == "unpublish":
        return _unpublish(request, page)
    return _edit(request, lg_code, page, "site/staff/page_edit.html")


@roles_required(*WEB_ROLES)
def news_list(request: HttpRequest, lg_code: str) -> HttpResponse:
    from django.core.paginator import Paginator

    items = NewsItem.objects.only("id", "title", "category", "status", "published_at",
                                  "created_at").order_by("-created_at", "-id")  # fmt: skip
    return render(
        request, "site/staff/news_list.html",
        {"page_obj": Paginator(items, 50).get_page(request.GET.get("page"))},
    )  # fmt: skip


@roles_required(Role.WEB_AUTHOR)
@require_http_methods(["GET", "POST"])
def news_new(request: HttpRequest, lg_code: str) -> HttpResponse:
    errors: list[str] = []
    if request.method == "POST":
        try:
            item = services.news_create(
                actor=request.user, title=_texts(request, "title"), body=_texts(request, "body"),
                category=request.POST.get("category", ""),
                publish_at=_when(request, "publish_at"),
                unpublish_at=_when(request, "unpublish_at"),
            )  # fmt: skip
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("お知らせを作成しました（下書き）。"))
            return redirect("site:staff_news_item", lg_code, item.pk)
    return render(
        request, "site/staff/news_new.html",
        {"errors": errors, "categories": NewsCategory.choices, "form": request.POST,
         "languages": _language_rows(_texts(request, "title"), _texts(request, "body"))},
        status=400 if errors else 200,
    )  # fmt: skip


@roles_required(*WEB_ROLES)
@require_http_methods(["GET", "POST"])
def news_edit(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    item = _get(NewsItem, pk)
    if request.method == "POST" and request.POST.get("action") == "unpublish":
        return _unpublish(request, item)
    return _edit(request, lg_code, item, "site/staff/news_edit.html")


def _unpublish(request: HttpRequest, owner: Page | NewsItem) -> HttpResponse:
    try:
        services.item_unpublish(actor=request.user, owner=owner,
                                terminal=Terminal.from_request(request))  # fmt: skip
    except ValidationError as exc:
        for message in _errors(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("公開を終了しました。"))
    return redirect(request.path)


def _owner_url(version: Version) -> tuple[str, int]:
    return ("site:staff_page", version.page_id) if version.page_id else (
        "site:staff_news_item", version.news_id)  # fmt: skip


@roles_required(*WEB_ROLES)
def version_detail(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    version = _get(Version, pk)
    owner = version.owner
    field = "page" if version.page_id else "news"
    against_number = request.GET.get("against")
    others = Version.objects.filter(**{field: owner})
    if against_number and against_number.isdigit():
        against = others.filter(number=int(against_number)).first()
    else:
        against = others.filter(number__lt=version.number).order_by("-number").first()
    diff = services.version_diff(old=against, new=version) if against else None
    name, owner_pk = _owner_url(version)
    return render(
        request, "site/staff/version.html",
        {"version": version, "owner": owner, "against": against, "diff": diff,
         "owner_url_name": name, "owner_pk": owner_pk,
         "numbers": list(others.order_by("-number").values_list("number", flat=True)),
         "languages": _language_rows(version.title, version.body),
         "may_approve": request.user.has_role(Role.WEB_APPROVER)
         and version.author_id != request.user.pk,
         "is_author": request.user.has_role(Role.WEB_AUTHOR)},
    )  # fmt: skip


@roles_required(*WEB_ROLES)
@require_POST
def version_action(request: HttpRequest, lg_code: str, pk: int, action: str) -> HttpResponse:
    version = _get(Version, pk)
    terminal = Terminal.from_request(request)
    comment = request.POST.get("comment", "")
    try:
        if action == "submit":
            services.version_submit(actor=request.user, version=version)
            messages.success(request, _("承認を依頼しました。"))
        elif action == "approve":
            services.version_approve(actor=request.user, version=version, comment=comment,
                                     terminal=terminal)  # fmt: skip
            messages.success(request, _("承認しました。"))
        elif action == "reject":
            services.version_reject(actor=request.user, version=version, comment=comment,
                                    terminal=terminal)  # fmt: skip
            messages.success(request, _("差し戻しました。"))
        elif action == "rollback":
            new = services.version_rollback(actor=request.user, version=version, terminal=terminal)
            messages.success(
                request, _("第%(old)s版の内容で第%(new)s版を作り、承認を依頼しました。")
                % {"old": version.number, "new": new.number},
            )  # fmt: skip
            return redirect("site:staff_version", lg_code, new.pk)
        else:
            raise Http404("no such action")
    except ValidationError as exc:
        for message in _errors(exc):
            messages.error(request, message)
    return redirect("site:staff_version", lg_code, version.pk)


@roles_required(*WEB_ROLES)
def approvals(request: HttpRequest, lg_code: str) -> HttpResponse:
    return render(request, "site/staff/approvals.html", {"versions": selectors.pending_versions()})


def _upload(request: HttpRequest) -> bytes:
    upload = request.FILES.get("file")
    if upload is None:
        return b""
    if upload.size > UPLOAD_MAX:
        raise services.SiteError(_("ファイルが大きすぎます。"))
    return upload.read()


@roles_required(*WEB_ROLES)
@require_http_methods(["GET", "POST"])
def images(request: HttpRequest, lg_code: str) -> HttpResponse:
    errors: list[str] = []
    if request.method == "POST":
        try:
            image = services.image_upload(
                actor=request.user, data=_upload(request),
                alt={c: request.POST.get(f"alt_{c}", "") for c in LANGUAGE_CODES},
            )  # fmt: skip
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("画像 %(id)s を登録しました。") % {"id": image.pk})
            return redirect(request.path)
    return render(
        request, "site/staff/images.html",
        {"images": Image.objects.defer("content")[:200], "errors": errors},
        status=400 if errors else 200,
    )  # fmt: skip


@roles_required(*WEB_ROLES)
@require_http_methods(["GET", "POST"])
def files(request: HttpRequest, lg_code: str) -> HttpResponse:
    errors: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            attachment = services.attachment_upload(
                actor=request.user, data=_upload(request), title=request.POST.get("title", ""),
                filename=upload.name if upload else "",
            )  # fmt: skip
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("ファイル %(id)s を登録しました。") % {"id": attachment.pk})
            return redirect(request.path)
    return render(
        request, "site/staff/files.html",
        {"files": Attachment.objects.defer("content")[:200], "errors": errors},
        status=400 if errors else 200,
    )  # fmt: skip
