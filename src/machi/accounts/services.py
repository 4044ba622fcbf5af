"""Writes on staff accounts, departments and second factors."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from machi.accounts.models import Department, Membership, Staff
from machi.accounts.roles import DEFAULT_DEPARTMENTS, MY_NUMBER_DEPARTMENTS, Role
from machi.audit.services import Terminal, audit_append, platform_audit_append
from machi.tenancy.context import tenant_context
from machi.tenancy.models import Municipality


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
    created_by: Staff | None = None,
) -> Staff:
    """Create a staff member with (department code, role) memberships.

    A platform operator has no municipality and no memberships; everybody else
    belongs to exactly one municipality and at least one department.
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
    )
    validate_password(password, user=staff)
    staff.set_password(password)
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


def staff_reset_password(
    *, staff: Staff, by: Staff | None, terminal: Terminal | None = None
) -> str:
    """Set a new temporary password (returned once) and force re-enrolment of TOTP.

    Every second factor and every open session of the staff member is removed, so the
    next login starts again with enrolment.
    """
    password = secrets.token_urlsafe(12)
    with transaction.atomic(using="default"):
        staff.set_password(password)
        staff.save(update_fields=["password"])
        TOTPDevice.objects.filter(user=staff).delete()
        staff_sessions_end(staff=staff)
    _audit_for(
        staff,
        action="staff.password_reset",
        actor=by,
        object_type="staff",
        object_id=str(staff.pk),
        terminal=terminal,
    )
    return password


def staff_sessions_end(*, staff: Staff) -> int:
    """Log the staff member out everywhere."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(staff.pk):
            session.delete()
            ended += 1
    return ended


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
