"""Writes on staff accounts, departments and second factors."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from machi.accounts.models import (
    Department,
    Membership,
    MfaResetRequest,
    NoticeKind,
    PasswordResetLink,
    Staff,
    StaffNotice,
)
from machi.accounts.roles import DEFAULT_DEPARTMENTS, MY_NUMBER_DEPARTMENTS, Role
from machi.audit.services import Terminal, audit_append, platform_audit_append
from machi.tenancy.context import tenant_context
from machi.tenancy.models import Municipality

logger = logging.getLogger("machi.accounts")


def departments_create_defaults(*, municipality: Municipality) -> list[Department]:
    """The default departments of DOMAIN.md §6 (idempotent)."""
    created = []
    for code, name in DEFAULT_DEPARTMENTS.items():
        department, _ = Department.objects.get_or_create(
            municipality=municipality, code=code, defaults={"name": name}
        )
        created.append(department)
    return created


def _audit_for(staff: Staff, **kwargs: Any) -> None:
    """Audit an event about ``staff`` in their municipality's log (platform log for operators)."""
    if staff.municipality_id is None:
        platform_audit_append(**kwargs)
        return
    with tenant_context(staff.municipality.lg_code):
        audit_append(**kwargs)


@transaction.atomic(using="default")
def staff_create(
    *,
    username: str,
    display_name: str,
    password: str,
    municipality: Municipality | None = None,
    memberships: list[tuple[str, str]] | None = None,
    reveal_my_number_departments: frozenset[str] = frozenset(),
    is_platform_operator: bool = False,
    language: str = "ja",
    email: str = "",
    created_by: Staff | None = None,
    password_hash: str | None = None,
) -> Staff:
    """Create a staff member with (department code, role) memberships.

    A platform operator has no municipality and no memberships; everybody else
    belongs to exactly one municipality and at least one department.
    ``password_hash`` is ``make_password(password)`` computed once by a caller that
    creates many members with one password (the demo: a hash costs 0.4 s).
    """
    if is_platform_operator == (municipality is not None):
        raise ValidationError("職員は1つの自治体に所属します（基盤運用者は自治体に所属しません）。")
    if not is_platform_operator and not memberships:
        raise ValidationError("職員は1つ以上の課に所属します。")
    unknown_reveal = set(reveal_my_number_departments) - MY_NUMBER_DEPARTMENTS
    if unknown_reveal:
        departments = ", ".join(sorted(unknown_reveal))
        raise ValidationError(
            f"個人番号を表示できるのは番号利用事務の課の職員だけです: {departments}"
        )
    staff = Staff(
        username=username,
        display_name=display_name,
        municipality=municipality,
        is_platform_operator=is_platform_operator,
        language=language,
        email=email,
    )
    validate_password(password, user=staff)
    if password_hash is None:
        staff.set_password(password)
    else:  # checking it against the password would cost the hash it saves
        staff.password = password_hash
    staff.full_clean()
    staff.save()
    for department_code, role in memberships or []:
        if role not in Role.values:
            raise ValidationError(f"役割 {role} はありません。")
        department = Department.objects.filter(
            municipality=municipality, code=department_code
        ).first()
        if department is None:
            raise ValidationError(f"課 {department_code} はありません。")
        Membership.objects.create(
            staff=staff,
            department=department,
            role=role,
            can_reveal_my_number=department_code in reveal_my_number_departments,
        )
    _audit_for(
        staff,
        action="staff.created",
        actor=created_by,
        object_type="staff",
        object_id=str(staff.pk),
        terminal=Terminal(user_agent="machi") if created_by is None else None,
    )
    return staff


PASSWORD_LINK_LIFETIME = timedelta(hours=24)
MFA_RESET_REQUEST_LIFETIME = timedelta(hours=24)
INVALID_LINK = (
    "このリンクは使えません（使用済み、期限切れ、または新しいリンクの発行で無効になりました）。"
)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _notify(*, staff: Staff, kind: NoticeKind) -> None:
    """Tell the staff member about a change to their account: a notice shown at their
    next sign-in, and a mail when they have an address. A mail that cannot be sent is
    logged (without the address) and does not undo the change: the notice remains."""
    StaffNotice.objects.create(staff=staff, kind=kind, created_at=timezone.now())
    if not staff.email:
        return
    with translation.override(staff.language):
        subject = gettext("【machi】アカウントの再設定のお知らせ")
        body = "\n\n".join(
            [
                gettext("%(name)s 様") % {"name": staff.display_name},
                str(kind.label),
                gettext(
                    "心当たりがない場合は、すぐに所属の自治体のシステム管理者へ連絡してください。"
                ),
            ]
        )
    try:
        send_mail(subject, body, None, [staff.email])
    except Exception:
        logger.exception("could not mail staff member %s about %s", staff.pk, kind.value)


def _require_admin_of(*, by: Staff, staff: Staff) -> None:
    if (
        by.municipality_id is None
        or by.municipality_id != staff.municipality_id
        or not by.has_role(Role.MUNICIPALITY_ADMIN)
    ):
        raise PermissionDenied("この職員のアカウントを管理する権限がありません。")


def staff_password_link_create(
    *, staff: Staff, by: Staff | None, terminal: Terminal | None = None
) -> str:
    """A one-time link token for ``staff`` to set a new password (returned once).

    ``by`` is an administrator of the staff member's municipality, or ``None`` for the
    platform operator's command line. The link lets its holder set the password and
    nothing else: the second factor stays, so whoever is given the link still cannot
    sign in without the member's authenticator. The current password stays valid until
    a new one is set (a reset by someone else must not lock the member out), earlier
    unused links are revoked, and the member is told.
    """
    if by is not None:
        _require_admin_of(by=by, staff=staff)
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic(using="default"):
        PasswordResetLink.objects.filter(
            staff=staff, used_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        link = PasswordResetLink.objects.create(
            staff=staff,
            token_hash=_token_hash(token),
            created_at=now,
            expires_at=now + PASSWORD_LINK_LIFETIME,
            created_by=by,
        )
        _notify(staff=staff, kind=NoticeKind.PASSWORD_LINK_CREATED)
    _audit_for(
        staff,
        action="staff.password_link_created",
        actor=by,
        object_type="staff",
        object_id=str(staff.pk),
        function="accounts:staff_reset_password" if by else "machi staff reset-password",
        terminal=terminal or (Terminal(user_agent="machi") if by is None else None),
        detail={"link": link.pk, "expires_at": link.expires_at.isoformat()},
    )
    return token


def password_link_valid(*, token: str) -> PasswordResetLink | None:
    """The unused, unexpired link of ``token`` (of an active staff member), or ``None``."""
    if not token or len(token) > 100:
        return None
    return (
        PasswordResetLink.objects.select_related("staff", "staff__municipality")
        .filter(
            token_hash=_token_hash(token),
            used_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
            staff__is_active=True,
        )
        .first()
    )


def staff_password_set_by_link(
    *, token: str, password: str, terminal: Terminal | None = None
) -> Staff:
    """Set the password of the link's staff member and use the link up.

    The member's second factor is untouched; their open sessions end; their next
    sign-in is marked ``after_reset`` in the audit log.
    """
    with transaction.atomic(using="default"):
        found = password_link_valid(token=token)
        link = (
            PasswordResetLink.objects.select_for_update()
            .filter(pk=found.pk, used_at__isnull=True)
            .first()
            if found is not None
            else None
        )
        if link is None:
            raise ValidationError(INVALID_LINK, code="invalid_link")
        staff = found.staff
        validate_password(password, user=staff)
        staff.set_password(password)
        staff.sign_in_after_reset = True
        staff.save(update_fields=["password", "sign_in_after_reset"])
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
        staff_sessions_end(staff=staff)
        _notify(staff=staff, kind=NoticeKind.PASSWORD_CHANGED)
    _audit_for(
        staff,
        action="staff.password_set_by_link",
        actor=staff,
        object_type="staff",
        object_id=str(staff.pk),
        function="accounts:password_set",
        terminal=terminal,
        detail={"link": link.pk},
    )
    return staff


def mfa_reset_request(
    *, staff: Staff, by: Staff | None, terminal: Terminal | None = None
) -> MfaResetRequest:
    """Ask for ``staff``'s second factor to be removed; nothing changes until a different
    administrator approves (``mfa_reset_approve``). ``by`` is an administrator of the
    municipality, or ``None`` for the platform operator's command line."""
    if by is not None:
        _require_admin_of(by=by, staff=staff)
        if by.pk == staff.pk:
            raise ValidationError("自分の二要素認証の再設定は申請できません。")
    if staff.municipality_id is None:
        raise ValidationError("基盤運用者の二要素認証は、この手続きでは再設定できません。")
    now = timezone.now()
    with transaction.atomic(using="default"):
        # Serialises requests for one member (one open request at a time).
        Staff.objects.select_for_update(of=("self",)).filter(pk=staff.pk).first()
        if MfaResetRequest.objects.filter(
            staff=staff, approved_at__isnull=True, expires_at__gt=now
        ).exists():
            raise ValidationError("この職員の二要素認証の再設定は、すでに申請中です。")
        request = MfaResetRequest.objects.create(
            staff=staff,
            requested_by=by,
            requested_via="web" if by is not None else "cli",
            requested_at=now,
            expires_at=now + MFA_RESET_REQUEST_LIFETIME,
        )
        _notify(staff=staff, kind=NoticeKind.MFA_RESET_REQUESTED)
    _audit_for(
        staff,
        action="mfa.reset_requested",
        actor=by,
        object_type="staff",
        object_id=str(staff.pk),
        function="accounts:mfa_reset_request" if by else "machi staff reset-mfa",
        terminal=terminal or (Terminal(user_agent="machi") if by is None else None),
        detail={"request": request.pk, "expires_at": request.expires_at.isoformat()},
    )
    return request


def mfa_reset_approve(
    *, request: MfaResetRequest, by: Staff, terminal: Terminal | None = None
) -> None:
    """The second administrator's approval: the member's second factor is removed and
    their sessions end; they enrol again at their next sign-in (marked ``after_reset``).
    The requester and the member themselves cannot approve."""
    staff = request.staff
    _require_admin_of(by=by, staff=staff)
    if by.pk == request.requested_by_id:
        raise ValidationError("申請した管理者とは別の管理者が承認してください。")
    if by.pk == staff.pk:
        raise ValidationError("自分の二要素認証の再設定は承認できません。")
    now = timezone.now()
    with transaction.atomic(using="default"):
        locked = MfaResetRequest.objects.select_for_update().filter(pk=request.pk).first()
        if locked is None or locked.approved_at is not None or locked.expires_at <= now:
            raise ValidationError("この申請は承認済みか、期限が切れています。")
        locked.approved_by = by
        locked.approved_at = now
        locked.save(update_fields=["approved_by", "approved_at"])
        TOTPDevice.objects.filter(user=staff).delete()
        Staff.objects.filter(pk=staff.pk).update(sign_in_after_reset=True)
        staff.sign_in_after_reset = True
        staff_sessions_end(staff=staff)
        _notify(staff=staff, kind=NoticeKind.MFA_RESET_DONE)
    _audit_for(
        staff,
        action="mfa.reset_approved",
        actor=by,
        object_type="staff",
        object_id=str(staff.pk),
        function="accounts:mfa_reset_approve",
        terminal=terminal,
        detail={
            "request": request.pk,
            "requested_by": request.requested_by_id,
            "requested_via": request.requested_via,
        },
    )


def staff_notices_take(*, staff: Staff) -> list[StaffNotice]:
    """The staff member's unseen notices, marked seen (shown once, at sign-in)."""
    notices = list(StaffNotice.objects.filter(staff=staff, seen_at__isnull=True))
    if notices:
        StaffNotice.objects.filter(pk__in=[n.pk for n in notices]).update(seen_at=timezone.now())
    return notices


def staff_sign_in_completed(*, staff: Staff) -> bool:
    """Clear the after-reset mark once a sign-in is complete; whether it was set."""
    if not staff.sign_in_after_reset:
        return False
    Staff.objects.filter(pk=staff.pk).update(sign_in_after_reset=False)
    staff.sign_in_after_reset = False
    return True


def staff_sessions_end(*, staff: Staff) -> int:
    """Log the staff member out everywhere."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(staff.pk):
            session.delete()
            ended += 1
    return ended


def staff_set_email(*, staff: Staff, email: str) -> None:
    """Where the staff member's account notices are mailed ('' for none)."""
    staff.email = email.strip()
    staff.full_clean(exclude=["password"], validate_unique=False)
    staff.save(update_fields=["email"])


def staff_set_language(*, staff: Staff, language: str) -> None:
    if language not in {"ja", "en"}:
        raise ValidationError("表示言語は ja または en です。")
    staff.language = language
    staff.save(update_fields=["language"])


def totp_device_start_enrolment(*, staff: Staff) -> TOTPDevice:
    """The staff member's unconfirmed TOTP device (created on first call)."""
    device = TOTPDevice.objects.filter(user=staff, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=staff, name="machi", confirmed=False)
    return device


def totp_device_confirm(
    *, staff: Staff, device: TOTPDevice, token: str, terminal: Terminal | None = None
) -> bool:
    """Confirm enrolment when ``token`` is the device's current code."""
    if device.user_id != staff.pk or not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=staff, confirmed=False).delete()
    _audit_for(
        staff,
        action="mfa.enrolled",
        actor=staff,
        object_type="staff",
        object_id=str(staff.pk),
        function="accounts:otp_enrol",
        terminal=terminal,
    )
    return True
