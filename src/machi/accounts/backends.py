"""Signing in with a password (Django's model backend) and finding the signed-in staff
member on every request with planned reads (:func:`staff_signed_in`)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from machi.accounts.models import Staff
from machi.accounts.selectors import staff_signed_in


class StaffBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Staff | None:
        staff = staff_signed_in(pk=user_id)
        return staff if staff is not None and self.user_can_authenticate(staff) else None
