from __future__ import annotations

from django.db.models import QuerySet

from machi.accounts.models import Staff
from machi.tenancy.models import Municipality


def staff_list(*, municipality: Municipality) -> QuerySet[Staff]:
    return (
        Staff.objects.filter(municipality=municipality)
        .prefetch_related("memberships__department")
        .order_by("username")
    )


def totp_current_code(*, username: str) -> str | None:
    """The code a staff member's confirmed TOTP device shows now (demo and tests only)."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
    if device is None:
        return None
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"
