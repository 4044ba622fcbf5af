from __future__ import annotations

from typing import Any

from django.db import router
from django.db.models import QuerySet
from django.utils import timezone

from machi.accounts.models import Membership, MfaResetRequest, Staff
from machi.tenancy.models import Municipality
from machi.tenancy.rows import rows_select


def staff_list(*, municipality: Municipality) -> QuerySet[Staff]:
    return (
        Staff.objects.filter(municipality=municipality)
        .prefetch_related("memberships__department")
        .order_by("username")
    )


def mfa_reset_requests_pending(*, municipality: Municipality) -> list[MfaResetRequest]:
    """Unapproved, unexpired MFA reset requests for staff of ``municipality``."""
    return list(
        MfaResetRequest.objects.filter(
            staff__municipality=municipality,
            approved_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .select_related("staff", "requested_by")
        .order_by("requested_at")
    )


def staff_signed_in(*, pk: Any) -> Staff | None:
    """The staff member with primary key ``pk``, with their municipality and memberships
    loaded (what every staff page and API call reads), or ``None``. Three planned reads
    instead of the compiled queryset of ``Staff.objects.get(pk=pk)``: this runs on
    every request."""
    using = router.db_for_read(Staff)
    found = rows_select(Staff, using=using, where="id = %s", params=[int(pk)])
    if not found:
        return None
    staff = found[0]
    if staff.municipality_id is not None:
        municipality = rows_select(
            Municipality, using=using, where="id = %s", params=[staff.municipality_id]
        )
        Staff.municipality.field.set_cached_value(staff, municipality[0] if municipality else None)
    # As prefetch_related("memberships") leaves it: staff.memberships.all() reads no rows.
    memberships = staff.memberships.get_queryset()
    memberships._result_cache = rows_select(
        Membership, using=using, where="staff_id = %s ORDER BY id", params=[staff.pk]
    )
    memberships._prefetch_done = True
    staff._prefetched_objects_cache = {"memberships": memberships}
    return staff


def totp_current_code(*, username: str) -> str | None:
    """The code a staff member's confirmed TOTP device shows now (demo and tests only)."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
    if device is None:
        return None
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"
