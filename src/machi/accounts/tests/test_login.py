from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from conftest import PASSWORD
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from machi.audit.models import AuditEntry, PlatformAuditEntry
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")


def _code(device: TOTPDevice, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset
    return f"{totp.token():06d}"


def _actions(lg_code: str, staff) -> list[str]:
    with tenant_context(lg_code):
        return list(
            AuditEntry.objects.filter(actor_id=staff.pk)
            .order_by("seq")
            .values_list("action", flat=True)
        )


@pytest.fixture
def clerk(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "counter_clerk"), username="clerk")


def _password_step(client: Client, username: str, password: str = PASSWORD):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_password_then_totp_reaches_home(clerk):
    client = Client()
    response = _password_step(client, "clerk")
    assert response.status_code == 302
    assert response.url == reverse("accounts:otp_verify")
    # Password alone opens no page.
    home = reverse("web:home", args=["131016"])
    assert client.get(home).url == reverse("accounts:otp_verify")
    device = TOTPDevice.objects.get(user=clerk)
    response = client.post(reverse("accounts:otp_verify"), {"token": _code(device)})
    assert response.status_code == 302
    assert client.get(home).status_code == 200
    assert _actions("131016", clerk)[-2:] == ["login.password_ok", "login.mfa_ok"]


def test_wrong_totp_is_rejected(clerk):
    client = Client()
    _password_step(client, "clerk")
    device = TOTPDevice.objects.get(user=clerk)
    wrong = _code(device, offset=3600)
    response = client.post(reverse("accounts:otp_verify"), {"token": wrong})
    assert response.status_code == 200
    assert "確認コードが正しくありません" in response.content.decode()
    assert client.get(reverse("web:home", args=["131016"])).status_code == 302
    assert "login.mfa_failed" in _actions("131016", clerk)
    response = client.post(reverse("accounts:otp_verify"), {"token": "12ab"})
    assert "6桁の数字" in response.content.decode()


def test_wrong_password_is_rejected_and_audited(clerk):
    client = Client()
    response = _password_step(client, "clerk", "wrong-password")
    assert response.status_code == 200
    assert "正しくありません" in response.content.decode()
    assert _actions("131016", clerk)[-1] == "login.failed"


def test_unknown_username_goes_to_the_platform_log(db):
    client = Client()
    _password_step(client, "nobody-here", "x")
    entry = PlatformAuditEntry.objects.order_by("-seq").first()
    assert entry.action == "login.failed"
    assert entry.detail == {"username_unknown": True}
    assert "nobody-here" not in str(entry.detail)


def test_lockout_after_configured_failures(clerk, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _password_step(client, "clerk", "wrong-password").status_code == 200
    response = _password_step(client, "clerk", "wrong-password")
    assert response.status_code == 429
    assert "ロック" in response.content.decode()
    # Even the right password is refused while locked out (AxesMiddleware answers).
    response = _password_step(client, "clerk")
    assert response.status_code == 429
    assert "login.locked_out" in _actions("131016", clerk)


def test_staff_without_confirmed_device_must_enrol(make_staff, municipality_a):
    newcomer = make_staff(municipality_a, ("shimin", "counter_clerk"), username="new", totp=False)
    client = Client()
    response = _password_step(client, "new")
    assert response.url == reverse("accounts:otp_enrol")
    for url in [reverse("web:home", args=["131016"]), reverse("web:start"), "/131016/audit/"]:
        assert client.get(url).url == reverse("accounts:otp_enrol")
    page = client.get(reverse("accounts:otp_enrol")).content.decode()
    assert "<svg" in page and "QRコード" in page
    device = TOTPDevice.objects.get(user=newcomer, confirmed=False)
    response = client.post(reverse("accounts:otp_enrol"), {"token": _code(device, 3600)})
    assert "確認コードが正しくありません" in response.content.decode()
    # django-otp throttles after a failure: the next try must come a little later.
    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=False):
        response = client.post(reverse("accounts:otp_enrol"), {"token": _code(device)})
    assert response.status_code == 302
    assert TOTPDevice.objects.get(user=newcomer).confirmed
    assert client.get(reverse("web:home", args=["131016"])).status_code == 200
    assert "mfa.enrolled" in _actions("131016", newcomer)


def test_idle_timeout_logs_out(clerk, signed_in):
    client = signed_in(clerk)
    home = reverse("web:home", args=["131016"])
    assert client.get(home).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=14), tick=False):
        assert client.get(home).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=14 + 16), tick=False):
        response = client.get(home)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    assert "session.timeout.idle" in _actions("131016", clerk)


def test_absolute_timeout_even_when_active(clerk, signed_in):
    client = signed_in(clerk)
    home = reverse("web:home", args=["131016"])
    start = timezone.now()
    # Active every 10 minutes for 12 hours: never idle, still cut off at 12 h.
    for minutes in range(10, 12 * 60, 10):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get(home).status_code == 200, minutes
    with time_machine.travel(start + timedelta(hours=12, minutes=1), tick=False):
        response = client.get(home)
    assert response.status_code == 302
    assert "session.timeout.absolute" in _actions("131016", clerk)


def test_logout(clerk, signed_in):
    client = signed_in(clerk)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.url == reverse("accounts:login")
    assert client.get(reverse("web:home", args=["131016"])).status_code == 302
    assert _actions("131016", clerk)[-1] == "logout"


def test_login_redirects_back_to_next_only_on_this_site(clerk):
    client = Client()
    client.post(
        reverse("accounts:login"),
        {"username": "clerk", "password": PASSWORD, "next": "/131016/"},
    )
    device = TOTPDevice.objects.get(user=clerk)
    response = client.post(reverse("accounts:otp_verify"), {"token": _code(device)})
    assert response.url == "/131016/"
    client = Client()
    client.post(
        reverse("accounts:login"),
        {"username": "clerk", "password": PASSWORD, "next": "https://evil.example/"},
    )
    response = client.post(reverse("accounts:otp_verify"), {"token": _code(device, 30)})
    assert response.url == reverse("web:start")


def test_only_admins_reset_passwords_and_only_their_own_staff(
    make_staff, municipality_a, municipality_b, signed_in, clerk
):
    other_admin = make_staff(municipality_b, ("shimin", "municipality_admin"), username="admin-b")
    url = reverse("accounts:staff_reset_password", args=["131016", clerk.pk])
    assert signed_in(clerk).post(url).status_code == 403
    assert signed_in(other_admin).post(url).status_code == 403
    url_b = reverse("accounts:staff_reset_password", args=["271403", clerk.pk])
    assert signed_in(other_admin).post(url_b).status_code == 404
    assert TOTPDevice.objects.filter(user=clerk).exists()


def test_language_is_per_user(clerk, signed_in):
    client = signed_in(clerk)
    home = reverse("web:home", args=["131016"])
    assert '<html lang="ja">' in client.get(home).content.decode()
    client.post(reverse("accounts:language"), {"language": "en", "next": home})
    clerk.refresh_from_db()
    assert clerk.language == "en"
    page = client.get(home).content.decode()
    assert '<html lang="en">' in page
    assert "Skip to main content" in page
