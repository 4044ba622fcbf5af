"""Every staff page needs a password, a confirmed second factor and a live session."""

from __future__ import annotations

from collections.abc import Callable

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.db import router
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_otp.middleware import OTPMiddleware
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from machi.tenancy.rows import rows_select

LOGIN_AT = "machi_login_at"
LAST_SEEN = "machi_last_seen"
# The last-seen stamp is rewritten at most this often: a session write per request would
# be a database write per request. The idle timeout can only come earlier by this much.
LAST_SEEN_RESOLUTION_SECONDS = 10
UNGUARDED_PREFIXES = ("/static/", "/api/")


def _session_expired(request: HttpRequest) -> str | None:
    now = timezone.now().timestamp()
    login_at = request.session.get(LOGIN_AT)
    last_seen = request.session.get(LAST_SEEN)
    if login_at is None or last_seen is None:
        return "no_timestamps"
    if now - login_at > settings.MACHI_SESSION_ABSOLUTE_TIMEOUT.total_seconds():
        return "absolute"
    if now - last_seen > settings.MACHI_SESSION_IDLE_TIMEOUT.total_seconds():
        return "idle"
    return None


def session_start(request: HttpRequest) -> None:
    """Stamp a freshly logged-in session (called by the login view)."""
    now = timezone.now().timestamp()
    request.session[LOGIN_AT] = now
    request.session[LAST_SEEN] = now


class SecondFactorMiddleware(OTPMiddleware):
    """django-otp's middleware (``request.user.otp_device``, ``is_verified()``) with the
    session's device read by one planned statement: this runs on every request."""

    def _device_from_persistent_id(self, persistent_id: str) -> Device | None:
        label, _, device_id = self._normalize_persistent_id(persistent_id).rpartition("/")
        try:
            model = apps.get_model(label)
            pk = int(device_id)
        except (ValueError, LookupError):
            return None
        if not issubclass(model, Device):
            return None
        found = rows_select(model, using=router.db_for_read(model), where="id = %s", params=[pk])
        return found[0] if found else None


class StaffSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            expired = _session_expired(request)
            if expired:
                from machi.accounts.signals import _audit_login_event

                _audit_login_event(
                    action=f"session.timeout.{expired}", username="", staff=user, request=request
                )
                logout(request)
                messages.info(request, _("一定時間操作がなかったため、ログアウトしました。"))
            else:
                translation.activate(user.language)
                request.LANGUAGE_CODE = user.language
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if request.user.is_authenticated and not getattr(view_func, "machi_polling", False):
            # A screen refreshing itself (@polling_view) is not the staff member at work:
            # it must not keep an unattended session past its idle timeout.
            now = timezone.now().timestamp()
            last_seen = request.session.get(LAST_SEEN)
            if last_seen is None or now - last_seen >= LAST_SEEN_RESOLUTION_SECONDS:
                request.session[LAST_SEEN] = now
        if getattr(view_func, "machi_public", False):
            return None
        if request.path_info.startswith(UNGUARDED_PREFIXES):
            return None
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if getattr(view_func, "machi_login_only", False):
            return None
        if not user.is_verified():
            if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
                return redirect("accounts:otp_verify")
            return redirect("accounts:otp_enrol")
        return None
