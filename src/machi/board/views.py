"""Board pages: public ones at ``/{lg}/board/…`` (anyone reads; a signed-in board user
writes) and the staff's at ``/{lg}/board/staff/…`` (moderators; the residence codes for
counter clerks).

Public views are ``public_view``: board users are not staff and never pass the staff
middleware. A public view that takes an id looks the object up first (404 for another
municipality's id: it lives in another database), then asks for a board sign-in.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from machi.accounts.roles import Role
from machi.audit.services import Terminal
from machi.board import selectors, services
from machi.board.markup import post_html
from machi.board.models import BodyFormat, Notify, Status, Word
from machi.board.services import REPORT_REASONS, BoardError
from machi.board.sessions import board_sign_in, board_sign_out, board_user
from machi.web.decorators import public_view, roles_required
from machi.web.language import language_switch

HELD = gettext_lazy("投稿は確認待ちです。モデレーターの確認後に表示されます。")
MAX_FORM = 20_000  # characters of one field: bigger is refused before any work


def _address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _terminal(request: HttpRequest) -> Terminal:
    return Terminal(
        ip_address=_address(request), user_agent=request.META.get("HTTP_USER_AGENT", "")[:200]
    )


def _field(request: HttpRequest, name: str) -> str:
    value = request.POST.get(name, "")
    if len(value) > MAX_FORM:
        raise BoardError(_("入力が長すぎます。"))
    return value


def _error(error: BoardError) -> str:
    return " ".join(error.messages)


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200):
    context.setdefault("board_user", board_user(request))
    context.setdefault("lg", request.municipality.lg_code)
    return render(request, f"board/{template}", context, status=status)


def resident_page(view: Callable) -> Callable:
    """A public board page: ``?lang=`` switches the language first."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "GET" and (switch := language_switch(request)) is not None:
            return switch
        return view(request, *args, **kwargs)

    return public_view(wrapper)


def _signin_redirect(request: HttpRequest, lg_code: str, back: str) -> HttpResponse:
    messages.info(request, _("この操作にはログインが必要です。"))
    return redirect(reverse("board:signin", args=[lg_code]) + f"?next={back}")


# --- public: reading ------------------------------------------------------------------------


@resident_page
@require_GET
def index(request: HttpRequest, lg_code: str) -> HttpResponse:
    return _render(
        request, "index.html",
        {"categories": selectors.categories(), "threads": selectors.threads()},
    )  # fmt: skip


@resident_page
@require_GET
def category(request: HttpRequest, lg_code: str, code: str) -> HttpResponse:
    found = selectors.category_get(code=code)
    if found is None:
        raise Http404(_("分類が見つかりません。"))
    return _render(
        request, "category.html",
        {"category": found, "categories": selectors.categories(),
         "threads": selectors.threads(category=found)},
    )  # fmt: skip


def _thread_page(
    request: HttpRequest, thread: Any, *, status: int = 200, error: str = "", body: str = ""
) -> HttpResponse:
    user = board_user(request)
    posts = selectors.thread_posts(thread=thread, viewer=user)
    for post in posts:
        post.html = post_html(post.body, post.body_format)
    return _render(
        request, "thread.html",
        {"thread": thread, "posts": posts, "following": selectors.is_following(
            user=user, thread=thread), "reasons": REPORT_REASONS, "error": error,
         "body": body, "formats": BodyFormat.choices},
        status=status,
    )  # fmt: skip


@resident_page
@require_GET
@never_cache
def thread(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    found = selectors.thread_get(pk=pk)
    if found is None:
        raise Http404(_("スレッドが見つかりません。"))
    return _thread_page(request, found)


# --- public: writing ------------------------------------------------------------------------


@resident_page
@require_http_methods(["GET", "POST"])
@never_cache
def thread_new(request: HttpRequest, lg_code: str) -> HttpResponse:
    user = board_user(request)
    if user is None:
        return _signin_redirect(request, lg_code, reverse("board:thread_new", args=[lg_code]))
    context: dict[str, Any] = {"categories": selectors.categories(), "formats": BodyFormat.choices,
                               "values": request.POST, "error": ""}  # fmt: skip
    if request.method == "POST":
        found = selectors.category_get(code=request.POST.get("category", ""))
        try:
            if found is None:
                raise BoardError(_("分類を選んでください。"))
            created = services.thread_create(
                category=found, title=_field(request, "title"), body=_field(request, "body"),
                body_format=request.POST.get("format", BodyFormat.PLAIN), user=user,
            )  # fmt: skip
        except BoardError as error:
            context["error"] = _error(error)
            return _render(request, "thread_new.html", context, status=400)
        if created.posts.get(is_opening=True).status == Status.HELD:
            messages.info(request, HELD)
            return redirect("board:index", lg_code=lg_code)
        return redirect("board:thread", lg_code=lg_code, pk=created.pk)
    return _render(request, "thread_new.html", context)


@resident_page
@require_POST
def thread_action(request: HttpRequest, lg_code: str, pk: int, action: str) -> HttpResponse:
    found = selectors.thread_get(pk=pk)
    if found is None or action not in ("reply", "follow", "unfollow"):
        raise Http404(_("スレッドが見つかりません。"))
    user = board_user(request)
    if user is None:
        return _signin_redirect(request, lg_code, reverse("board:thread", args=[lg_code, pk]))
    try:
        if action == "reply":
            post = services.post_reply(
                thread=found, body=_field(request, "body"),
                body_format=request.POST.get("format", BodyFormat.PLAIN), user=user,
            )  # fmt: skip
            if post.status == Status.HELD:
                messages.info(request, HELD)
            else:
                messages.success(request, _("返信しました。"))
        else:
            services.follow_set(user=user, thread=found, on=action == "follow")
            messages.success(
                request,
                _("スレッドをフォローしました。") if action == "follow"
                else _("フォローをやめました。"),
            )  # fmt: skip
    except BoardError as error:
        status = 429 if isinstance(error, services.RateLimited) else 400
        return _thread_page(
            request, found, status=status, error=_error(error), body=request.POST.get("body", "")
        )
    return redirect("board:thread", lg_code=lg_code, pk=pk)


@resident_page
@require_POST
def post_action(request: HttpRequest, lg_code: str, pk: int, action: str) -> HttpResponse:
    post = selectors.post_get(pk=pk)
    if post is None or action not in ("react", "report", "appeal"):
        raise Http404(_("投稿が見つかりません。"))
    back = reverse("board:thread", args=[lg_code, post.thread_id]) + f"#post-{post.pk}"
    user = board_user(request)
    if user is None:
        return _signin_redirect(request, lg_code, back)
    try:
        if action == "react":
            services.reaction_toggle(user=user, post=post)
        elif action == "report":
            services.report_create(
                user=user, post=post, reason=request.POST.get("reason", ""),
                detail=_field(request, "detail"),
            )  # fmt: skip
            messages.success(request, _("通報を受け付けました。モデレーターが確認します。"))
        else:
            services.appeal_create(user=user, post=post, text=_field(request, "text"))
            messages.success(request, _("申し立てを受け付けました。モデレーターが確認します。"))
            return redirect("board:account", lg_code=lg_code)
    except BoardError as error:
        messages.error(request, _error(error))
        if action == "appeal":
            return redirect("board:account", lg_code=lg_code)
    return redirect(back)


# --- public: accounts -----------------------------------------------------------------------


@resident_page
@require_http_methods(["GET", "POST"])
@never_cache
def register(request: HttpRequest, lg_code: str) -> HttpResponse:
    context: dict[str, Any] = {"values": request.POST, "error": "", "sent": False}
    if request.method == "POST":
        if request.POST.get("website"):  # the hidden field only robots fill in
            context["error"] = _("この欄には何も入力しないでください。")
            return _render(request, "register.html", context, status=400)
        try:
            services.user_register(
                email=_field(request, "email"), display_name=_field(request, "display_name"),
                password=_field(request, "password"),
            )  # fmt: skip
        except BoardError as error:
            context["error"] = _error(error)
            return _render(request, "register.html", context, status=400)
        context["sent"] = True
    return _render(request, "register.html", context)


@resident_page
@require_http_methods(["GET", "POST"])
@never_cache
def confirm(request: HttpRequest, lg_code: str, token: str) -> HttpResponse:
    """GET shows a button, POST confirms: mail scanners that open every link in a mail
    must not confirm an address for someone who never registered."""
    if request.method == "GET":
        return _render(request, "confirm.html", {"ok": None})
    user = services.user_confirm(token=token)
    if user is None:
        return _render(request, "confirm.html", {"ok": False}, status=404)
    board_sign_in(request, user)
    return _render(request, "confirm.html", {"ok": True, "board_user": user})


@resident_page
@require_http_methods(["GET", "POST"])
@never_cache
def signin(request: HttpRequest, lg_code: str) -> HttpResponse:
    back = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(back, allowed_hosts=None) or not back.startswith(
        f"/{lg_code}/board/"
    ):
        back = reverse("board:index", args=[lg_code])
    context: dict[str, Any] = {"next": back, "error": "", "email": request.POST.get("email", "")}
    if request.method == "POST":
        try:
            user = services.user_authenticate(
                email=_field(request, "email"), password=_field(request, "password"),
                address=_address(request),
            )  # fmt: skip
        except BoardError as error:
            context["error"] = _error(error)
            status = 429 if isinstance(error, services.RateLimited) else 400
            return _render(request, "signin.html", context, status=status)
        board_sign_in(request, user)
        if user.is_blocked:
            messages.error(
                request,
                _("このアカウントは利用を停止されています。理由: %(reason)s")
                % {"reason": user.block_reason},
            )
            return redirect("board:account", lg_code=lg_code)
        return redirect(back)
    return _render(request, "signin.html", context)


@resident_page
@require_POST
def signout(request: HttpRequest, lg_code: str) -> HttpResponse:
    board_sign_out(request)
    return redirect("board:index", lg_code=lg_code)


@resident_page
@require_http_methods(["GET", "POST"])
@never_cache
def account(request: HttpRequest, lg_code: str) -> HttpResponse:
    user = board_user(request)
    if user is None:
        return _signin_redirect(request, lg_code, reverse("board:account", args=[lg_code]))
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "preferences":
                services.user_preferences_set(
                    user=user, display_name=_field(request, "display_name"),
                    notify=request.POST.get("notify", ""),
                )  # fmt: skip
                messages.success(request, _("設定を保存しました。"))
            elif action == "residence":
                services.residence_code_redeem(user=user, code=_field(request, "code"))
                messages.success(request, _("住民確認が済みました。"))
            elif action == "export":
                data = json.dumps(services.user_export(user=user), ensure_ascii=False, indent=2)
                response = HttpResponse(data, content_type="application/json; charset=utf-8")
                response["Content-Disposition"] = 'attachment; filename="board-data.json"'
                return response
            elif action == "appeal-block":
                services.appeal_create(user=user, text=_field(request, "text"))
                messages.success(request, _("申し立てを受け付けました。モデレーターが確認します。"))
            elif action == "delete":
                if request.POST.get("confirm") != "yes":
                    raise BoardError(_("退会するには、確認の欄にチェックしてください。"))
                services.user_delete(user=user)
                board_sign_out(request)
                messages.success(request, _("退会しました。ご利用ありがとうございました。"))
                return redirect("board:index", lg_code=lg_code)
            else:
                raise BoardError(_("操作がわかりません。"))
        except BoardError as error_:
            error = _error(error_)
        else:
            return redirect("board:account", lg_code=lg_code)
    return _render(
        request, "account.html",
        {"me": user, "notify_choices": Notify.choices, "error": error,
         "appealable": selectors.user_appealable(user=user),
         "posts": selectors.user_posts(user=user)},
        status=400 if error else 200,
    )  # fmt: skip


# --- staff ----------------------------------------------------------------------------------

moderator = roles_required(Role.MODERATOR)


def _staff_redirect(request: HttpRequest, default: str) -> HttpResponse:
    back = request.POST.get("next", "")
    lg = request.municipality.lg_code
    if back.startswith(f"/{lg}/board/staff/") and url_has_allowed_host_and_scheme(back, None):
        return redirect(back)
    return redirect(default)


@moderator
@require_GET
def staff_queue(request: HttpRequest, lg_code: str) -> HttpResponse:
    queue = selectors.moderation_queue()
    for post in queue["held"] + queue["reported"]:
        post.html = post_html(post.body, post.body_format)
    return _render(
        request, "staff_queue.html",
        {"queue": queue, "log": selectors.moderation_log(limit=30),
         "settings": services.settings_get(), "words": list(Word.objects.all()),
         "categories": selectors.categories()},
    )  # fmt: skip


@moderator
@require_POST
def staff_settings(request: HttpRequest, lg_code: str) -> HttpResponse:
    def number(name: str) -> int:
        value = request.POST.get(name, "")
        return int(value) if value.isdigit() else -1

    try:
        services.settings_update(
            actor=request.user, report_threshold=number("report_threshold"),
            new_account_posts_per_hour=number("new_account_posts_per_hour"),
            posts_per_minute=number("posts_per_minute"), posts_per_hour=number("posts_per_hour"),
        )  # fmt: skip
        messages.success(request, _("設定を保存しました。"))
    except BoardError as error:
        messages.error(request, _error(error))
    return redirect("board:staff_queue", lg_code=lg_code)


@moderator
@require_POST
def staff_category_save(request: HttpRequest, lg_code: str) -> HttpResponse:
    """Add a category, or rename the one whose code is given."""
    try:
        services.category_save(
            actor=request.user, code=request.POST.get("code", "")[:MAX_FORM],
            name=request.POST.get("name", "")[:MAX_FORM],
            description=request.POST.get("description", "")[:MAX_FORM],
            terminal=_terminal(request),
        )  # fmt: skip
        messages.success(request, _("分類を保存しました。"))
    except BoardError as error:
        messages.error(request, _error(error))
    return redirect("board:staff_queue", lg_code=lg_code)


@moderator
@require_POST
def staff_word_add(request: HttpRequest, lg_code: str) -> HttpResponse:
    try:
        services.word_add(staff=request.user, word=request.POST.get("word", ""))
        messages.success(request, _("語句を登録しました。"))
    except BoardError as error:
        messages.error(request, _error(error))
    return redirect("board:staff_queue", lg_code=lg_code)


@moderator
@require_POST
def staff_word_delete(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    word = Word.objects.filter(pk=pk).first()
    if word is None:
        raise Http404(_("語句が見つかりません。"))
    services.word_delete(staff=request.user, word=word)
    messages.success(request, _("語句を削除しました。"))
    return redirect("board:staff_queue", lg_code=lg_code)


@moderator
@require_POST
def staff_post_action(request: HttpRequest, lg_code: str, pk: int, action: str) -> HttpResponse:
    post = selectors.post_get(pk=pk)
    if post is None or action not in ("hide", "unhide", "warn"):
        raise Http404(_("投稿が見つかりません。"))
    reason = request.POST.get("reason", "")[:MAX_FORM]
    try:
        if action == "hide":
            services.post_hide(staff=request.user, post=post, reason=reason,
                               terminal=_terminal(request))  # fmt: skip
            messages.success(request, _("投稿を非表示にしました。"))
        elif action == "unhide":
            services.post_unhide(staff=request.user, post=post, reason=reason,
                                 terminal=_terminal(request))  # fmt: skip
            messages.success(request, _("投稿を表示しました。"))
        else:
            if post.author is None:
                raise BoardError(_("公式の投稿には注意できません。"))
            services.user_warn(staff=request.user, user=post.author, post=post, reason=reason,
                               terminal=_terminal(request))  # fmt: skip
            messages.success(request, _("投稿者に注意しました。"))
    except BoardError as error:
        messages.error(request, _error(error))
    return _staff_redirect(request, reverse("board:staff_thread", args=[lg_code, post.thread_id]))


@moderator
@require_GET
def staff_user(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    user = selectors.user_get(pk=pk)
    if user is None:
        raise Http404(_("利用者が見つかりません。"))
    posts = selectors.user_posts(user=user)
    for post in posts:
        post.html = post_html(post.body, post.body_format)
    return _render(request, "staff_user.html", {"target": user, "posts": posts})


@moderator
@require_POST
def staff_user_action(request: HttpRequest, lg_code: str, pk: int, action: str) -> HttpResponse:
    user = selectors.user_get(pk=pk)
    if user is None or action not in ("warn", "block", "unblock"):
        raise Http404(_("利用者が見つかりません。"))
    reason = request.POST.get("reason", "")[:MAX_FORM]
    call = {"warn": services.user_warn, "block": services.user_block,
            "unblock": services.user_unblock}[action]  # fmt: skip
    try:
        call(staff=request.user, user=user, reason=reason, terminal=_terminal(request))
        messages.success(request, _("操作を記録しました。"))
    except BoardError as error:
        messages.error(request, _error(error))
    return redirect("board:staff_user", lg_code=lg_code, pk=pk)


@moderator
@require_POST
def staff_appeal_action(request: HttpRequest, lg_code: str, pk: int, action: str) -> HttpResponse:
    from machi.board.models import Appeal

    appeal = Appeal.objects.select_related("user", "post").filter(pk=pk).first()
    if appeal is None or action not in ("grant", "reject"):
        raise Http404(_("申し立てが見つかりません。"))
    try:
        services.appeal_decide(
            staff=request.user, appeal=appeal, grant=action == "grant",
            reason=request.POST.get("reason", "")[:MAX_FORM], terminal=_terminal(request),
        )  # fmt: skip
        messages.success(request, _("申し立てを判断しました。"))
    except BoardError as error:
        messages.error(request, _error(error))
    return redirect("board:staff_queue", lg_code=lg_code)


@moderator
@require_http_methods(["GET", "POST"])
def staff_thread_new(request: HttpRequest, lg_code: str) -> HttpResponse:
    context: dict[str, Any] = {"categories": selectors.categories(), "formats": BodyFormat.choices,
                               "values": request.POST, "error": "", "official": True}  # fmt: skip
    if request.method == "POST":
        found = selectors.category_get(code=request.POST.get("category", ""))
        try:
            if found is None:
                raise BoardError(_("分類を選んでください。"))
            created = services.thread_create(
                category=found, title=_field(request, "title"), body=_field(request, "body"),
                body_format=request.POST.get("format", BodyFormat.MARKDOWN), staff=request.user,
            )  # fmt: skip
        except BoardError as error:
            context["error"] = _error(error)
            return _render(request, "thread_new.html", context, status=400)
        messages.success(request, _("公式として投稿しました。"))
        return redirect("board:staff_thread", lg_code=lg_code, pk=created.pk)
    return _render(request, "thread_new.html", context)


def _request_categories() -> list[Any]:
    from machi.requests.models import Category as RequestCategory

    return list(RequestCategory.objects.filter(is_active=True).order_by("order", "pk"))


@moderator
@require_GET
def staff_thread(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    found = selectors.thread_any(pk=pk)
    if found is None:
        raise Http404(_("スレッドが見つかりません。"))
    posts = list(found.posts.select_related("author").order_by("created_at", "pk"))
    for post in posts:
        post.html = post_html(post.body, post.body_format)
    return _render(
        request, "staff_thread.html",
        {"thread": found, "posts": posts, "formats": BodyFormat.choices,
         "request_categories": _request_categories()},
    )  # fmt: skip


@moderator
@require_POST
def staff_thread_action(request: HttpRequest, lg_code: str, pk: int, action: str) -> HttpResponse:
    found = selectors.thread_any(pk=pk)
    if found is None or action not in ("pin", "unpin", "reply", "request"):
        raise Http404(_("スレッドが見つかりません。"))
    try:
        if action in ("pin", "unpin"):
            services.thread_pin(staff=request.user, thread=found, pinned=action == "pin")
            messages.success(
                request, _("固定しました。") if action == "pin" else _("固定を外しました。")
            )
        elif action == "reply":
            services.post_reply(
                thread=found, body=_field(request, "body"),
                body_format=request.POST.get("format", BodyFormat.MARKDOWN), staff=request.user,
            )  # fmt: skip
            messages.success(request, _("公式として返信しました。"))
        else:
            from machi.requests.models import Category as RequestCategory

            chosen = request.POST.get("category", "")
            category = RequestCategory.objects.filter(
                pk=int(chosen) if chosen.isdigit() else 0, is_active=True
            ).first()
            if category is None:
                raise BoardError(_("要望の分類を選んでください。"))
            created = services.thread_to_request(
                staff=request.user, thread=found, category=category,
                address=_field(request, "address"),
                thread_url=request.build_absolute_uri(
                    reverse("board:thread", args=[lg_code, found.pk])
                ),
                terminal=_terminal(request),
            )  # fmt: skip
            messages.success(
                request, _("要望 %(code)s として受け付けました。") % {"code": created.public_code}
            )
    except BoardError as error:
        messages.error(request, _error(error))
    return redirect("board:staff_thread", lg_code=lg_code, pk=pk)


@roles_required(Role.COUNTER_CLERK)
@require_http_methods(["GET", "POST"])
@never_cache
def staff_residence_code(request: HttpRequest, lg_code: str) -> HttpResponse:
    """The counter clerk, having checked the resident's identity document, prints or
    reads out a one-time code. The page shows it once; only its hash is kept."""
    code = ""
    if request.method == "POST":
        code = services.residence_code_issue(actor=request.user, terminal=_terminal(request))
    return _render(
        request, "staff_residence_code.html",
        {"code": code, "valid_days": services.RESIDENCE_CODE_VALID.days},
    )  # fmt: skip
