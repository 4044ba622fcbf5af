"""Resets of a staff member's password and second factor: no administrator alone can
obtain a working sign-in of someone else, and the member is told of every reset."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from conftest import PASSWORD
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from machi.accounts import services
from machi.accounts.models import MfaResetRequest, PasswordResetLink, StaffNotice
from machi.audit.models import AuditEntry
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

NEW_PASSWORD = "a-brand-new-passphrase-7"


@pytest.fixture
def member(make_staff, municipality_a):
    """A resident-records clerk who may reveal My Numbers: what a rogue admin would want."""
    return make_staff(
        municipality_a,
        ("shimin", "department_staff"),
        username="member",
        reveal_my_number_departments=frozenset({"shimin"}),
        email="member@city.example.lg.jp",
    )


@pytest.fixture
def admin(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "municipality_admin"), username="admin1")


@pytest.fixture
def admin2(make_staff, municipality_a):
    return make_staff(municipality_a, ("zeimu", "municipality_admin"), username="admin2")


@pytest.fixture
def admin_b(make_staff, municipality_b):
    return make_staff(municipality_b, ("shimin", "municipality_admin"), username="admin-b")


def _code(staff) -> str:
    device = TOTPDevice.objects.get(user=staff, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def _entries(staff, lg_code="131016") -> list[tuple[str, dict]]:
    with tenant_context(lg_code):
        return list(
            AuditEntry.objects.filter(object_type="staff", object_id=str(staff.pk))
            .order_by("seq")
            .values_list("action", "detail")
        )


def _issue_link(admin_client: Client, staff) -> tuple[str, str]:
    response = admin_client.post(
        reverse("accounts:staff_reset_password", args=["131016", staff.pk])
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    link = page.split('<p class="secret">')[1].split("</p>")[0]
    return link, page


def _path(link: str) -> str:
    return link.removeprefix("http://testserver")


def _set_password(link: str, password: str = NEW_PASSWORD):
    return Client().post(_path(link), {"password1": password, "password2": password})


def _home_reachable(client: Client) -> bool:
    return client.get(reverse("web:home", args=["131016"])).status_code == 200


def test_the_old_exploit_gives_the_administrator_no_sign_in(member, admin, signed_in):
    """Reset, then try to sign in with what the administrator saw, or with a password the
    administrator set through the link: neither reaches any page without the member's
    own authenticator, and the authenticator was not removed."""
    member_client = signed_in(member)
    link, page = _issue_link(signed_in(admin), member)
    assert "仮パスワード" not in page
    token = link.rsplit("/", 2)[-2]
    attacker = Client()
    for seen in (link, token, page.split('<p class="secret">')[1][:40]):
        response = attacker.post(
            reverse("accounts:login"), {"username": "member", "password": seen}
        )
        assert response.status_code == 200  # the form again: wrong password
        assert not _home_reachable(attacker)
    # The administrator uses the link to choose a password…
    assert _set_password(link).status_code == 302
    response = attacker.post(
        reverse("accounts:login"), {"username": "member", "password": NEW_PASSWORD}
    )
    # …and is asked for the member's existing second factor, not offered enrolment.
    assert response.url == reverse("accounts:otp_verify")
    assert attacker.get(reverse("accounts:otp_enrol")).url == reverse("accounts:otp_verify")
    assert not _home_reachable(attacker)
    attacker.post(reverse("accounts:otp_verify"), {"token": "000000"})
    assert not _home_reachable(attacker)
    assert TOTPDevice.objects.filter(user=member, confirmed=True).count() == 1
    # The member's own session was ended when the password changed.
    assert not _home_reachable(member_client)
    # The member, with the new password and their authenticator, gets in (once the
    # throttle the wrong code above set on their device has passed).
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        client = Client()
        client.post(reverse("accounts:login"), {"username": "member", "password": NEW_PASSWORD})
        client.post(reverse("accounts:otp_verify"), {"token": _code(member)})
        assert _home_reachable(client)


def test_a_link_changes_nothing_until_used_and_the_member_is_told(member, admin, signed_in):
    member_client = signed_in(member)
    link, _ = _issue_link(signed_in(admin), member)
    member.refresh_from_db()
    assert member.check_password(PASSWORD)  # no silent lock-out
    assert _home_reachable(member_client)
    (message,) = mail.outbox
    assert message.to == ["member@city.example.lg.jp"]
    assert "パスワード再設定リンク" in message.body
    assert link not in message.body  # the link goes through another channel
    link_row = PasswordResetLink.objects.get(staff=member)
    assert link.rsplit("/", 2)[-2] not in link_row.token_hash  # only the hash is stored
    assert link_row.expires_at - link_row.created_at == timedelta(hours=24)
    actions = [action for action, _ in _entries(member)]
    assert actions[-1] == "staff.password_link_created"


def test_a_link_works_once(member, admin, signed_in):
    link, _ = _issue_link(signed_in(admin), member)
    assert Client().get(_path(link)).status_code == 200
    assert _set_password(link).status_code == 302
    second = _set_password(link, "yet-another-passphrase-9")
    assert second.status_code == 410
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)
    assert [a for a, _ in _entries(member)].count("staff.password_set_by_link") == 1


def test_a_link_expires_after_24_hours(member, admin, signed_in):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        link, _ = _issue_link(signed_in(admin), member)
    with time_machine.travel(start + timedelta(hours=23, minutes=59), tick=False):
        assert Client().get(_path(link)).status_code == 200
    with time_machine.travel(start + timedelta(hours=24, seconds=1), tick=False):
        assert Client().get(_path(link)).status_code == 410
        assert _set_password(link).status_code == 410
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


def test_a_new_link_revokes_the_earlier_one(member, admin, signed_in):
    admin_client = signed_in(admin)
    first, _ = _issue_link(admin_client, member)
    second, _ = _issue_link(admin_client, member)
    assert _set_password(first).status_code == 410
    assert _set_password(second).status_code == 302


@pytest.mark.parametrize(
    ("password1", "password2", "message"),
    [("short", "short", "短すぎ"), (NEW_PASSWORD, NEW_PASSWORD + "x", "一致しません")],
)
def test_a_bad_new_password_keeps_the_link(member, admin, signed_in, password1, password2, message):
    link, _ = _issue_link(signed_in(admin), member)
    response = Client().post(_path(link), {"password1": password1, "password2": password2})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert PasswordResetLink.objects.get(staff=member).used_at is None
    assert _set_password(link).status_code == 302


def test_an_unknown_token_is_refused():
    response = Client().post(
        reverse("accounts:password_set", args=["not-a-token"]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 410
    assert "このリンクは使えません" in response.content.decode()
    with pytest.raises(ValidationError, match="このリンクは使えません"):
        services.staff_password_set_by_link(token="x" * 43, password=NEW_PASSWORD)


def test_only_an_administrator_of_the_same_municipality(member, admin_b, signed_in, make_staff):
    clerk = make_staff(member.municipality, ("shimin", "counter_clerk"), username="clerk")
    for url in (
        reverse("accounts:staff_reset_password", args=["131016", member.pk]),
        reverse("accounts:staff_mfa_reset_request", args=["131016", member.pk]),
    ):
        assert signed_in(clerk).post(url).status_code == 403
        assert signed_in(admin_b).post(url).status_code == 403
    # Under their own municipality's prefix, A's member does not exist.
    for name in ("accounts:staff_reset_password", "accounts:staff_mfa_reset_request"):
        url = reverse(name, args=["271403", member.pk])
        assert signed_in(admin_b).post(url).status_code == 404
    with pytest.raises(PermissionDenied):
        services.staff_password_link_create(staff=member, by=admin_b)
    with pytest.raises(PermissionDenied):
        services.mfa_reset_request(staff=member, by=admin_b)
    with pytest.raises(PermissionDenied):
        services.staff_password_link_create(staff=member, by=clerk)
    assert not PasswordResetLink.objects.exists()
    assert not MfaResetRequest.objects.exists()


def test_mfa_reset_needs_a_second_administrator(member, admin, admin2, admin_b, signed_in):
    admin_client, admin2_client = signed_in(admin), signed_in(admin2)
    member_client = signed_in(member)
    response = admin_client.post(
        reverse("accounts:staff_mfa_reset_request", args=["131016", member.pk])
    )
    assert response.status_code == 302
    reset = MfaResetRequest.objects.get(staff=member)
    assert TOTPDevice.objects.filter(user=member, confirmed=True).exists()
    assert _home_reachable(member_client)
    approve = reverse("accounts:staff_mfa_reset_approve", args=["131016", reset.pk])
    # The requester cannot approve their own request…
    admin_client.post(approve)
    assert TOTPDevice.objects.filter(user=member).exists()
    with pytest.raises(ValidationError, match="別の管理者"):
        services.mfa_reset_approve(request=reset, by=admin)
    # …nor an administrator of another municipality.
    assert signed_in(admin_b).post(approve).status_code == 403
    url_b = reverse("accounts:staff_mfa_reset_approve", args=["271403", reset.pk])
    assert signed_in(admin_b).post(url_b).status_code == 404
    with pytest.raises(PermissionDenied):
        services.mfa_reset_approve(request=reset, by=admin_b)
    assert TOTPDevice.objects.filter(user=member).exists()
    # The list shows the second administrator an approval button, the first none.
    assert (
        approve
        not in admin_client.get(reverse("accounts:staff_list", args=["131016"])).content.decode()
    )
    assert (
        approve
        in admin2_client.get(reverse("accounts:staff_list", args=["131016"])).content.decode()
    )
    assert admin2_client.post(approve).status_code == 302
    assert not TOTPDevice.objects.filter(user=member).exists()
    assert not _home_reachable(member_client)
    reset.refresh_from_db()
    assert (reset.requested_by, reset.approved_by) == (admin, admin2)
    with pytest.raises(ValidationError, match="承認済み"):
        services.mfa_reset_approve(request=reset, by=admin2)
    entries = _entries(member)
    requested = next(d for a, d in entries if a == "mfa.reset_requested")
    approved = next(d for a, d in entries if a == "mfa.reset_approved")
    assert requested["request"] == approved["request"] == reset.pk
    assert approved["requested_by"] == admin.pk
    assert len(mail.outbox) == 2  # requested, done
    # The member signs in with their password and enrols again; the sign-in is marked.
    client = Client()
    response = client.post(reverse("accounts:login"), {"username": "member", "password": PASSWORD})
    assert response.url == reverse("accounts:otp_enrol")


def test_the_member_cannot_approve_a_request_about_themselves(admin, admin2, signed_in):
    reset = services.mfa_reset_request(staff=admin2, by=admin)
    with pytest.raises(ValidationError, match="自分"):
        services.mfa_reset_approve(request=reset, by=admin2)
    with pytest.raises(ValidationError, match="自分"):
        services.mfa_reset_request(staff=admin, by=admin)
    assert TOTPDevice.objects.filter(user=admin2).exists()


def test_an_mfa_reset_request_expires(member, admin, admin2):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        reset = services.mfa_reset_request(staff=member, by=admin)
        with pytest.raises(ValidationError, match="申請中"):
            services.mfa_reset_request(staff=member, by=admin2)
    with time_machine.travel(start + timedelta(hours=24, seconds=1), tick=False):
        with pytest.raises(ValidationError, match="期限"):
            services.mfa_reset_approve(request=reset, by=admin2)
        assert TOTPDevice.objects.filter(user=member).exists()
        services.mfa_reset_request(staff=member, by=admin2)  # a fresh one may be filed


def test_a_sign_in_after_a_reset_is_marked_and_notices_are_shown_once(member, admin, signed_in):
    link, _ = _issue_link(signed_in(admin), member)
    _set_password(link)
    client = Client()
    client.post(reverse("accounts:login"), {"username": "member", "password": NEW_PASSWORD})
    response = client.post(reverse("accounts:otp_verify"), {"token": _code(member)}, follow=True)
    page = response.content.decode()
    assert "パスワード再設定リンクを発行しました" in page
    assert "パスワード再設定リンクでパスワードが変更されました" in page
    assert not StaffNotice.objects.filter(staff=member, seen_at__isnull=True).exists()
    marked = [a for a, d in _entries(member) if d.get("after_reset")]
    assert marked == ["login.password_ok", "login.mfa_ok"]
    # The next sign-in is an ordinary one: no mark, no notices.
    client.post(reverse("accounts:logout"))
    client.post(reverse("accounts:login"), {"username": "member", "password": NEW_PASSWORD})
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        response = client.post(
            reverse("accounts:otp_verify"), {"token": _code(member)}, follow=True
        )
    assert "お知らせ" not in response.content.decode()
    marked = [a for a, d in _entries(member) if d.get("after_reset")]
    assert marked == ["login.password_ok", "login.mfa_ok"]


def test_a_sign_in_after_an_mfa_reset_is_marked_at_enrolment(member, admin, admin2):
    services.mfa_reset_approve(
        request=services.mfa_reset_request(staff=member, by=admin), by=admin2
    )
    client = Client()
    client.post(reverse("accounts:login"), {"username": "member", "password": PASSWORD})
    client.get(reverse("accounts:otp_enrol"))
    device = TOTPDevice.objects.get(user=member, confirmed=False)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    client.post(reverse("accounts:otp_enrol"), {"token": f"{totp.token():06d}"})
    assert _home_reachable(client)
    marked = [a for a, d in _entries(member) if d.get("after_reset")]
    assert marked == ["login.password_ok", "login.mfa_ok"]


def test_a_member_without_an_address_gets_the_notice_in_the_app(make_staff, admin, signed_in):
    quiet = make_staff(admin.municipality, ("kankyo", "department_staff"), username="quiet")
    _issue_link(signed_in(admin), quiet)
    assert mail.outbox == []
    assert StaffNotice.objects.filter(staff=quiet, seen_at__isnull=True).count() == 1


def test_staff_list_queries_do_not_grow_with_requests(
    admin, admin2, make_staff, signed_in, django_assert_max_num_queries
):
    client = signed_in(admin2)
    url = reverse("accounts:staff_list", args=["131016"])
    for n in range(5):
        staff = make_staff(admin.municipality, ("kankyo", "department_staff"), username=f"m{n}")
        services.mfa_reset_request(staff=staff, by=admin)
    with django_assert_max_num_queries(12):
        assert client.get(url).status_code == 200
