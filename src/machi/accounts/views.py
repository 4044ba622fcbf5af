"""Login with password and TOTP, enrolment, logout, language, and staff administration."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from machi.accounts import selectors, services
from machi.accounts.forms import LanguageForm, LoginForm, PasswordSetForm, TokenForm
from machi.accounts.middleware import session_start
from machi.accounts.models import MfaResetRequest, Staff
from machi.accounts.roles import Role
from machi.accounts.signals import _audit_login_event
from machi.audit.services import Terminal
from machi.web.decorators import login_only_view, public_view, roles_required


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


@public_view
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.user.is_verified():
        return redirect("web:start")
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
        )
        if user is None:
            form.add_error(None, _("ユーザー名またはパスワードが正しくありません。"))
        else:
            login(request, user)
            session_start(request)
            target = _next_url(request)
            if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
                response = redirect("accounts:otp_verify")
            else:
                response = redirect("accounts:otp_enrol")
            if target:
                request.session["machi_next"] = target
            return response
    return render(request, "accounts/login.html", {"form": form, "next": _next_url(request)})


def _after_second_factor(request: HttpRequest) -> HttpResponse:
    for notice in services.staff_notices_take(staff=request.user):
        messages.warning(
            request,
            _("お知らせ（%(when)s）: %(text)s")
            % {
                "when": date_format(localtime(notice.created_at), "SHORT_DATETIME_FORMAT"),
                "text": notice.get_kind_display(),
            },
        )
    target = request.session.pop("machi_next", "")
    return redirect(target or "web:start")


@login_only_view
def otp_enrol(request: HttpRequest) -> HttpResponse:
    user = request.user
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect("accounts:otp_verify")
    device = services.totp_device_start_enrolment(staff=user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.totp_device_confirm(
            staff=user,
            device=device,
            token=form.cleaned_data["token"],
            terminal=Terminal.from_request(request),
        ):
            otp_login(request, device)
            _audit_login_event(
                action="login.mfa_ok",
                username="",
                staff=user,
                request=request,
                after_reset=services.staff_sign_in_completed(staff=user),
            )
            messages.success(request, _("二要素認証を登録しました。"))
            return _after_second_factor(request)
        form.add_error(
            "token", _("確認コードが正しくありません。アプリの最新のコードを入力してください。")
        )
    qr_svg = segno.make(device.config_url, error="m").svg_inline(
        scale=5, title=_("認証アプリ登録用のQRコード")
    )
    secret = device.config_url.split("secret=")[1].split("&")[0]
    return render(
        request,
        "accounts/otp_enrol.html",
        {"form": form, "qr_svg": qr_svg, "secret": secret},
    )


@login_only_view
def otp_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_verified():
        return redirect("web:start")
    devices = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    if not devices:
        return redirect("accounts:otp_enrol")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"]
        device = next((d for d in devices if d.verify_token(token)), None)
        if device is not None:
            otp_login(request, device)
            _audit_login_event(
                action="login.mfa_ok",
                username="",
                staff=user,
                request=request,
                after_reset=services.staff_sign_in_completed(staff=user),
            )
            return _after_second_factor(request)
        _audit_login_event(action="login.mfa_failed", username="", staff=user, request=request)
        form.add_error("token", _("確認コードが正しくありません。"))
    return render(request, "accounts/otp_verify.html", {"form": form})


@login_only_view
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("ログアウトしました。"))
    return redirect("accounts:login")


@require_POST
def language_view(request: HttpRequest) -> HttpResponse:
    form = LanguageForm(request.POST)
    if form.is_valid():
        services.staff_set_language(staff=request.user, language=form.cleaned_data["language"])
    return redirect(_next_url(request) or "web:start")


@roles_required(Role.MUNICIPALITY_ADMIN)
def staff_list(request: HttpRequest, lg_code: str) -> HttpResponse:
    staff = selectors.staff_list(municipality=request.municipality)
    pending = selectors.mfa_reset_requests_pending(municipality=request.municipality)
    return render(
        request,
        "accounts/staff_list.html",
        {"staff_members": staff, "mfa_requests": pending},
    )


@roles_required(Role.MUNICIPALITY_ADMIN)
@require_POST
def staff_reset_password(request: HttpRequest, lg_code: str, staff_id: int) -> HttpResponse:
    """A one-time password link for the member (the administrator sees no password)."""
    staff = get_object_or_404(Staff, pk=staff_id, municipality=request.municipality)
    token = services.staff_password_link_create(
        staff=staff, by=request.user, terminal=Terminal.from_request(request)
    )
    link = request.build_absolute_uri(reverse("accounts:password_set", args=[token]))
    response = render(
        request,
        "accounts/password_reset_done.html",
        {
            "staff_member": staff,
            "link": link,
            "expires_hours": int(services.PASSWORD_LINK_LIFETIME.total_seconds() // 3600),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@roles_required(Role.MUNICIPALITY_ADMIN)
@require_POST
def staff_mfa_reset_request(request: HttpRequest, lg_code: str, staff_id: int) -> HttpResponse:
    staff = get_object_or_404(Staff, pk=staff_id, municipality=request.municipality)
    try:
        services.mfa_reset_request(
            staff=staff, by=request.user, terminal=Terminal.from_request(request)
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(name)s の二要素認証の再設定を申請しました。別の管理者が承認すると実行されます。")
            % {"name": staff.username},
        )
    return redirect("accounts:staff_list", lg_code)


@roles_required(Role.MUNICIPALITY_ADMIN)
@require_POST
def staff_mfa_reset_approve(request: HttpRequest, lg_code: str, request_id: int) -> HttpResponse:
    reset = get_object_or_404(
        MfaResetRequest.objects.select_related("staff__municipality"),
        pk=request_id,
        staff__municipality=request.municipality,
    )
    try:
        services.mfa_reset_approve(
            request=reset, by=request.user, terminal=Terminal.from_request(request)
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(name)s の二要素認証の登録を取り消しました。次回ログイン時に再登録します。")
            % {"name": reset.staff.username},
        )
    return redirect("accounts:staff_list", lg_code)


@public_view
def password_set(request: HttpRequest, token: str) -> HttpResponse:
    """The member's page behind a reset link: a new password, nothing else."""
    link = services.password_link_valid(token=token)
    if link is None:
        response = render(request, "accounts/password_set.html", {"invalid": True}, status=410)
    else:
        form = PasswordSetForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.staff_password_set_by_link(
                    token=token,
                    password=form.cleaned_data["password1"],
                    terminal=Terminal.from_request(request),
                )
            except ValidationError as error:
                form.add_error("password1", error)
            else:
                messages.success(
                    request,
                    _(
                        "パスワードを設定しました。新しいパスワードと、"
                        "これまでの認証アプリの確認コードでログインしてください。"
                    ),
                )
                return redirect("accounts:login")
        response = render(
            request,
            "accounts/password_set.html",
            {"form": form, "staff_member": link.staff},
        )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"  # the token is in this page's URL
    return response
