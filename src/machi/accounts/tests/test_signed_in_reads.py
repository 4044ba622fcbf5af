"""Every request reads its session, its staff member (with municipality and memberships)
and its second-factor device with planned statements (``rows_select``) instead of
compiled querysets (issue 5). They must read exactly what the ORM reads, refuse what
the ORM refuses (expired sessions, inactive staff, foreign or unconfirmed devices) and
leave nothing for later requests to query."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import sign_in
from django.contrib.sessions.models import Session
from django.db import router
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from machi.accounts.backends import StaffBackend
from machi.accounts.middleware import SecondFactorMiddleware
from machi.accounts.models import Membership, Staff
from machi.accounts.selectors import staff_signed_in
from machi.tenancy.models import Municipality
from machi.tenancy.rows import rows_select

pytestmark = pytest.mark.django_db(databases="__all__")


def _values(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


@pytest.fixture
def clerk(make_staff, municipality_a):
    roles = [("shimin", "counter_clerk"), ("hoken_nenkin", "department_staff")]
    return make_staff(municipality_a, *roles, username="clerk")


def test_rows_select_reads_what_the_orm_reads(clerk):
    client = sign_in(Client(), clerk)
    device = TOTPDevice.objects.get(user=clerk)
    device.throttling_failure_timestamp = timezone.now()  # a nullable datetime, set
    device.save()
    using = router.db_for_read(Staff)
    cases = [
        (Staff, "id = %s", [clerk.pk], Staff.objects.get(pk=clerk.pk)),
        (Municipality, "id = %s", [clerk.municipality_id], clerk.municipality),
        (TOTPDevice, "id = %s", [device.pk], TOTPDevice.objects.get(pk=device.pk)),
        (Session, "session_key = %s", [client.session.session_key],
         Session.objects.get(session_key=client.session.session_key)),
    ]  # fmt: skip
    for model, where, params, expected in cases:
        (found,) = rows_select(model, using=using, where=where, params=params)
        assert type(found) is model
        assert _values(found) == _values(expected), model
        assert not found._state.adding and found._state.db == using
    memberships = rows_select(
        Membership, using=using, where="staff_id = %s ORDER BY id", params=[clerk.pk]
    )
    assert [_values(m) for m in memberships] == [
        _values(m) for m in Membership.objects.filter(staff=clerk).order_by("id")
    ]
    assert rows_select(Staff, using=using, where="id = %s", params=[-1]) == []


def test_staff_signed_in_reads_everything_a_request_needs_at_once(
    clerk, make_staff, django_assert_num_queries
):
    with django_assert_num_queries(3):
        staff = staff_signed_in(pk=str(clerk.pk))  # the session keeps the key as text
    with django_assert_num_queries(0):
        assert staff.municipality.lg_code == "131016"
        assert staff.roles == {"counter_clerk", "department_staff"}
        assert staff.has_role("department_staff")
        assert len(staff.memberships.all()) == 2
    operator = make_staff(None, username="op")
    with django_assert_num_queries(2):
        found = staff_signed_in(pk=operator.pk)
    with django_assert_num_queries(0):
        assert found.municipality is None
        assert found.roles == frozenset()
    assert staff_signed_in(pk=10**9) is None


def test_inactive_staff_are_not_signed_in(clerk):
    client = sign_in(Client(), clerk)
    home = reverse("web:home", args=["131016"])
    assert client.get(home).status_code == 200
    Staff.objects.filter(pk=clerk.pk).update(is_active=False)
    assert StaffBackend().get_user(clerk.pk) is None
    assert client.get(home).url.startswith(reverse("accounts:login"))


def test_an_expired_or_deleted_session_signs_nobody_in(clerk, make_staff):
    home = reverse("web:home", args=["131016"])
    client = sign_in(Client(), clerk)
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    assert client.get(home).url.startswith(reverse("accounts:login"))
    other = sign_in(Client(), make_staff(clerk.municipality, ("shimin", "counter_clerk")))
    Session.objects.filter(session_key=other.session.session_key).delete()
    assert other.get(home).url.startswith(reverse("accounts:login"))


def test_the_second_factor_comes_only_from_the_staff_members_confirmed_device(clerk, make_staff):
    middleware = SecondFactorMiddleware(lambda request: None)
    device = TOTPDevice.objects.get(user=clerk)
    assert middleware._device_from_persistent_id(device.persistent_id) == device
    for bad in (
        f"otp_totp.totpdevice/{device.pk + 1000}",
        "otp_totp.totpdevice/x",
        f"accounts.staff/{clerk.pk}",  # not a device
        "nowhere.nothing/1",
        "garbage",
    ):
        assert middleware._device_from_persistent_id(bad) is None, bad

    home = reverse("web:home", args=["131016"])
    verify = reverse("accounts:otp_verify")
    client = sign_in(Client(), clerk)
    assert client.get(home).status_code == 200
    # Another staff member's device in the session: not verified.
    other = make_staff(clerk.municipality, ("shimin", "counter_clerk"))
    session = client.session
    session["otp_device_id"] = TOTPDevice.objects.get(user=other).persistent_id
    session.save()
    assert client.get(home).url == verify
    # The staff member's own device, no longer confirmed: not verified.
    client = sign_in(Client(), clerk)
    TOTPDevice.objects.filter(pk=device.pk).update(confirmed=False)
    assert client.get(home).url == reverse("accounts:otp_enrol")  # no confirmed device left
