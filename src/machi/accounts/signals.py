"""Logins, failed logins and lockouts are audited in the staff member's municipality log."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from machi.audit.services import Terminal, audit_append, platform_audit_append
from machi.tenancy.context import tenant_context


def _audit_login_event(
    *, action: str, username: str, staff: Any, request: Any, after_reset: bool = False
) -> None:
    """``after_reset``: the sign-in of a staff member whose password was set by a reset
    link or whose second factor was reset since their last sign-in."""
    from machi.accounts.models import Staff

    if staff is None and username:
        staff = Staff.objects.select_related("municipality").filter(username=username).first()
    terminal = Terminal.from_request(request)
    detail = {} if staff is not None else {"username_unknown": True}
    if after_reset:
        detail["after_reset"] = True
    if staff is not None and staff.municipality_id is not None:
        with tenant_context(staff.municipality.lg_code):
            audit_append(
                action=action,
                actor=staff,
                object_type="staff",
                object_id=str(staff.pk),
                function="accounts:login",
                terminal=terminal,
                detail=detail,
            )
        return
    # Operators, and usernames that do not exist (never recorded: they may be a mistyped
    # password), go to the platform log.
    platform_audit_append(
        action=action,
        actor=staff,
        object_type="staff" if staff is not None else "",
        object_id=str(staff.pk) if staff is not None else "",
        function="accounts:login",
        terminal=terminal,
        detail=detail,
    )


@receiver(user_logged_in)
def audit_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    _audit_login_event(
        action="login.password_ok",
        username="",
        staff=user,
        request=request,
        after_reset=getattr(user, "sign_in_after_reset", False),
    )


@receiver(user_login_failed)
def audit_login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    username = str(credentials.get("username", ""))[:150]
    _audit_login_event(action="login.failed", username=username, staff=None, request=request)


@receiver(user_locked_out)
def audit_locked_out(sender: Any, request: Any, username: str, ip_address: str, **kwargs: Any):
    _audit_login_event(action="login.locked_out", username=username, staff=None, request=request)


@receiver(user_logged_out)
def audit_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        _audit_login_event(action="logout", username="", staff=user, request=request)
