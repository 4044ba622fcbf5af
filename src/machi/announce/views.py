"""Announcement pages: the residents' list and page, the feeds (RSS, Atom, CAP), mail
subscription with its confirmation and one-click unsubscribe (RFC 8058), and the staff's
editor, preview, publication and delivery status.

Staff pages need ウェブ作成者 or ウェブ承認者; another municipality's announcements live
in its own database (its staff are refused by the tenancy middleware).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib import messages
from django.core.mail import send_mail
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import check_for_language, get_language, override
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import condition, require_GET, require_http_methods, require_POST

from machi.accounts.roles import Role
from machi.announce import feeds, selectors, services
from machi.announce.cap import CONTENT_TYPE as CAP_TYPE
from machi.announce.cap import alert_xml
from machi.announce.forms import AnnouncementForm, SubscribeForm, error_summary, mark_errors
from machi.announce.links import absolute
from machi.announce.models import LANGUAGES, Announcement, ChannelDelivery, Status
from machi.announce.rendering import text_in
from machi.audit.services import Terminal
from machi.contact.abuse import limit_count, limit_reached
from machi.web.decorators import public_view, roles_required

WRITE_ROLES = (Role.WEB_AUTHOR, Role.WEB_APPROVER)
SUBSCRIBE_LIMIT = 5  # subscription requests per client address and hour
FEED_MAX_AGE = 300


def _language_switch(request: HttpRequest) -> HttpResponse | None:
    """``?lang=…``: remember the language in Django's cookie, show the page without it."""
    language = request.GET.get("lang")
    if language is None:
        return None
    rest = request.GET.copy()
    del rest["lang"]
    response = HttpResponseRedirect(request.path + (f"?{rest.urlencode()}" if rest else ""))
    if language in LANGUAGES and check_for_language(language):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600,
            samesite="Lax", secure=request.is_secure(), httponly=True,
        )  # fmt: skip
    return response


def _reader_language() -> str:
    language = get_language() or "ja"
    return language if language in LANGUAGES else "ja"


def _categories(language: str) -> list[tuple[str, str]]:
    return [(c.code, c.label(language)) for c in selectors.categories()]


# --- public pages ------------------------------------------------------------------------------


@public_view
@require_GET
def public_list(request: HttpRequest, lg_code: str) -> HttpResponse:
    if (switch := _language_switch(request)) is not None:
        return switch
    language = _reader_language()
    items = [(a, text_in(a, language)) for a in selectors.public_announcements()]
    return render(request, "announce/public_list.html", {"items": items, "language": language})


@public_view
@require_GET
def public_detail(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    if (switch := _language_switch(request)) is not None:
        return switch
    announcement = selectors.public_announcement_get(pk=pk)
    if announcement is None:
        raise Http404(_("お知らせが見つかりません。"))
    language = _reader_language()
    return render(
        request, "announce/public_detail.html",
        {"a": announcement, "text": text_in(announcement, language), "language": language},
    )  # fmt: skip


def _feed_language(request: HttpRequest) -> str:
    language = request.GET.get("lang") or "ja"
    return language if language in LANGUAGES else "ja"


def _etag(request: HttpRequest, lg_code: str) -> str:
    key = f"{lg_code}:{request.path}:{_feed_language(request)}:{selectors.feed_version()}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _last_modified(request: HttpRequest, lg_code: str):
    return selectors.feed_changed_at()


def _cacheable(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, public=True, max_age=FEED_MAX_AGE)
    response["Vary"] = "Accept-Encoding"
    return response


def _feed_response(request: HttpRequest, lg_code: str, kind: str) -> HttpResponse:
    feed = feeds.news_feed(
        kind=kind, lg_code=lg_code, municipality=request.municipality.name,
        language=_feed_language(request),
    )  # fmt: skip
    response = HttpResponse(content_type=feed.content_type)
    feed.write(response, "utf-8")
    return _cacheable(response)


@public_view
@require_GET
@condition(etag_func=_etag, last_modified_func=_last_modified)
def feed_rss(request: HttpRequest, lg_code: str) -> HttpResponse:
    return _feed_response(request, lg_code, "rss")


@public_view
@require_GET
@condition(etag_func=_etag, last_modified_func=_last_modified)
def feed_atom(request: HttpRequest, lg_code: str) -> HttpResponse:
    return _feed_response(request, lg_code, "atom")


@public_view
@require_GET
def feed_cap(request: HttpRequest, lg_code: str) -> HttpResponse:
    # Not conditional: an alert drops out when it expires, with no write to date it by.
    feed = feeds.cap_index(
        lg_code=lg_code, municipality=request.municipality.name,
        language=_feed_language(request),
    )  # fmt: skip
    response = HttpResponse(content_type=feed.content_type)
    feed.write(response, "utf-8")
    patch_cache_control(response, public=True, max_age=60)
    return response


@public_view
@require_GET
def cap_alert(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    announcement = selectors.cap_alert_get(pk=pk)
    if announcement is None:
        raise Http404(_("警報が見つかりません。"))
    body = alert_xml(announcement, lg_code=lg_code, municipality=request.municipality.name)
    response = HttpResponse(body, content_type=CAP_TYPE)
    patch_cache_control(response, public=True, max_age=60)
    return response


# --- mail subscription -------------------------------------------------------------------------


def _subscribe_page(
    request: HttpRequest, form: SubscribeForm, *, status: int = 200, refused: str = ""
) -> HttpResponse:
    mark_errors(form)
    return render(
        request, "announce/subscribe.html",
        {"form": form, "errors": error_summary(form), "refused": refused}, status=status,
    )  # fmt: skip


@public_view
@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest, lg_code: str) -> HttpResponse:
    if request.method == "GET" and (switch := _language_switch(request)) is not None:
        return switch
    language = _reader_language()
    categories = _categories(language)
    if request.method == "GET":
        return _subscribe_page(
            request, SubscribeForm(categories=categories, initial={"language": language})
        )
    form = SubscribeForm(request.POST, categories=categories)
    address = request.META.get("REMOTE_ADDR", "")
    if limit_reached(scope="announce-subscribe", address=address, limit=SUBSCRIBE_LIMIT):
        form.is_valid()
        return _subscribe_page(
            request, form, status=429,
            refused=_("短い時間に多くの登録がありました。しばらくしてからもう一度お試しください。"),
        )  # fmt: skip
    if not form.is_valid() or form.cleaned_data["website"]:
        if form.is_bound and not form.errors:
            form.add_error("website", _("この欄には何も入力しないでください。"))
        return _subscribe_page(request, form, status=400)
    data = form.cleaned_data
    try:
        subscriber, secret = services.subscription_request(
            email=data["email"], categories=data["categories"], language=data["language"]
        )
    except services.AnnouncementError as error:
        form.add_error(error.field if error.field in form.fields else None, error.messages[0])
        return _subscribe_page(request, form, status=400)
    limit_count(scope="announce-subscribe", address=address)
    confirm = absolute(reverse("announce:subscribe_confirm", args=[lg_code, secret]))
    with override(data["language"]):
        send_mail(
            _("[%(name)s] お知らせメールの登録の確認") % {"name": request.municipality.name},
            _("お知らせメールの登録を完了するには、3日以内に次のリンクを開いてください。\n%(url)s\n\n"
              "心当たりがない場合は、このメールを破棄してください。登録されません。\n")
            % {"url": confirm},
            settings.DEFAULT_FROM_EMAIL, [subscriber.email],
        )  # fmt: skip
    return render(request, "announce/subscribe_sent.html")


@public_view
@require_http_methods(["GET", "POST"])
def subscribe_confirm(request: HttpRequest, lg_code: str, secret: str) -> HttpResponse:
    # GET only shows a button: mail scanners open links, only a person confirms.
    if request.method == "GET":
        if not selectors.subscription_waiting(secret=secret):
            refused = _("確認のリンクが無効か、期限が切れています。もう一度登録してください。")
            return render(
                request, "announce/subscribe_confirm.html",
                {"done": False, "refused": refused}, status=404,
            )  # fmt: skip
        return render(request, "announce/subscribe_confirm.html", {"done": False})
    try:
        services.subscription_confirm(secret=secret)
    except services.AnnouncementError as error:
        return render(
            request, "announce/subscribe_confirm.html",
            {"done": False, "refused": error.messages[0]}, status=400,
        )  # fmt: skip
    return render(request, "announce/subscribe_confirm.html", {"done": True})


@public_view
@csrf_exempt  # RFC 8058: the mail client POSTs with no session and no form token
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, lg_code: str, token: str) -> HttpResponse:
    if request.method == "GET":
        if not selectors.subscriber_known(token=token):
            return render(request, "announce/unsubscribe.html", {"unknown": True}, status=404)
        return render(request, "announce/unsubscribe.html", {"done": False})
    services.subscription_cancel(token=token)
    # RFC 8058: the one-click POST gets the same answer whether or not the token still
    # names someone (a mail client may repeat it after the address is gone).
    return render(request, "announce/unsubscribe.html", {"done": True})


# --- staff -------------------------------------------------------------------------------------


def _announcement(pk: int) -> Announcement:
    announcement = Announcement.objects.filter(pk=pk).select_related("supersedes").first()
    if announcement is None:
        raise Http404(_("お知らせが見つかりません。"))
    return announcement


def _staff_url(lg_code: str, pk: int) -> str:
    return reverse("announce:staff_detail", args=[lg_code, pk])


@roles_required(*WRITE_ROLES)
@require_GET
def staff_list(request: HttpRequest, lg_code: str) -> HttpResponse:
    return render(
        request, "announce/staff_list.html",
        {"announcements": list(selectors.staff_announcements()[:200]),
         "may_write": services.may_write(request.user)},
    )  # fmt: skip


def _form_page(
    request: HttpRequest,
    form: AnnouncementForm,
    announcement: Announcement | None,
    *,
    status: int = 200,
) -> HttpResponse:
    mark_errors(form)
    return render(
        request, "announce/staff_form.html",
        {"form": form, "errors": error_summary(form), "a": announcement}, status=status,
    )  # fmt: skip


def _save(request: HttpRequest, lg_code: str, announcement: Announcement | None) -> HttpResponse:
    categories = _categories("ja")
    if request.method == "GET":
        initial = AnnouncementForm.initial_of(announcement) if announcement else {}
        return _form_page(
            request, AnnouncementForm(categories=categories, initial=initial), announcement
        )
    form = AnnouncementForm(request.POST, categories=categories)
    if not form.is_valid():
        return _form_page(request, form, announcement, status=400)
    terminal = Terminal.from_request(request)
    try:
        if announcement is None:
            announcement = services.announcement_create(
                actor=request.user, terminal=terminal, **form.service_fields()
            )
        else:
            services.announcement_update(
                announcement=announcement, actor=request.user, terminal=terminal,
                **form.service_fields(),
            )  # fmt: skip
    except services.AnnouncementError as error:
        field = error.field.replace("-", "_") if error.field else None
        form.add_error(field if field in form.fields else None, error.messages[0])
        return _form_page(request, form, announcement, status=400)
    messages.success(request, _("下書きを保存しました。各言語のプレビューを確認してください。"))
    return redirect(_staff_url(lg_code, announcement.pk))


@roles_required(*WRITE_ROLES)
@require_http_methods(["GET", "POST"])
def staff_create(request: HttpRequest, lg_code: str) -> HttpResponse:
    return _save(request, lg_code, None)


@roles_required(*WRITE_ROLES)
@require_http_methods(["GET", "POST"])
def staff_edit(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    announcement = _announcement(pk)
    if announcement.status != Status.DRAFT:
        messages.error(
            request, _("公開したお知らせは編集できません。訂正のお知らせを作成してください。")
        )
        return redirect(_staff_url(lg_code, pk))
    return _save(request, lg_code, announcement)


@roles_required(*WRITE_ROLES)
@require_GET
def staff_detail(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    announcement = _announcement(pk)
    previews = [(code, text_in(announcement, code)) for code in LANGUAGES]
    return render(
        request, "announce/staff_detail.html",
        {
            "a": announcement, "previews": previews,
            "channels": selectors.delivery_status(announcement=announcement),
            "may_publish": services.may_publish(request.user),
            "may_write": services.may_write(request.user),
            "now": timezone.now(),
        },
    )  # fmt: skip


@roles_required(*WRITE_ROLES)
@require_POST
def staff_action(request: HttpRequest, lg_code: str, pk: int, action: str) -> HttpResponse:
    announcement = _announcement(pk)
    services_by_action = {
        "publish": (services.announcement_publish, _("公開しました。各経路への配信を始めました。")),
        "withdraw": (services.announcement_withdraw, _("取り下げました。")),
    }
    if action not in services_by_action:
        raise Http404(_("その操作はありません。"))
    service, done = services_by_action[action]
    try:
        service(
            announcement=announcement, actor=request.user, terminal=Terminal.from_request(request)
        )
    except services.AnnouncementError as error:
        messages.error(request, error.messages[0])
        return redirect(_staff_url(lg_code, pk))
    messages.success(request, done)
    return redirect(_staff_url(lg_code, pk))


@roles_required(*WRITE_ROLES)
@require_POST
def staff_retry(request: HttpRequest, lg_code: str, pk: int, delivery_pk: int) -> HttpResponse:
    delivery = ChannelDelivery.objects.filter(pk=delivery_pk, announcement_id=pk).first()
    if delivery is None:
        raise Http404(_("配信が見つかりません。"))
    try:
        services.delivery_retry(
            delivery=delivery, actor=request.user, terminal=Terminal.from_request(request)
        )
    except services.AnnouncementError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("再送を始めました。"))
    return redirect(_staff_url(lg_code, pk))
