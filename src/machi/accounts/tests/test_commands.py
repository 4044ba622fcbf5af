from __future__ import annotations

import pytest
from conftest import PASSWORD  # at import time: the browser conftest shadows it later
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from machi.accounts.models import Staff

pytestmark = pytest.mark.django_db(databases="__all__")


def test_staff_create_and_list(capsys, municipality_a):
    call_command(
        "staff", "create", "--tenant", "131016", "--username", "first-admin",
        "--name", "管理 太郎", "--role", "shimin:municipality_admin",
        "--role", "shimin:department_staff", "--reveal-my-number", "shimin",
        "--password", "a-good-long-password",
    )  # fmt: skip
    staff = Staff.objects.get(username="first-admin")
    assert staff.municipality == municipality_a
    assert staff.roles == {"municipality_admin", "department_staff"}
    call_command("staff", "list", "--tenant", "131016")
    out = capsys.readouterr().out
    assert "first-admin\t管理 太郎\t" in out and "(個人番号)" in out


def test_staff_create_operator():
    call_command(
        "staff", "create", "--operator", "--username", "op2", "--name", "運用",
        "--password", "a-good-long-password",
    )  # fmt: skip
    assert Staff.objects.get(username="op2").is_platform_operator


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "shimin"], "課コード:役割"),
        (["--role", "shimin:boss"], "課コード:役割"),
        (["--role", "nowhere:counter_clerk"], "課 nowhere"),
        (["--role", "kankyo:department_staff", "--reveal-my-number", "kankyo"], "番号利用事務"),
        ([], "1つ以上の課"),
    ],
)
def test_staff_create_errors(args, message):
    with pytest.raises(CommandError, match=message):
        call_command(
            "staff", "create", "--tenant", "131016", "--username", "x", "--name", "x",
            "--password", "a-good-long-password", *args,
        )  # fmt: skip
    assert not Staff.objects.filter(username="x").exists()


def test_reset_password_command_prints_a_link_not_a_password(make_staff, municipality_a, capsys):
    from django.test import Client

    staff = make_staff(municipality_a, ("shimin", "counter_clerk"), username="forgetful")
    call_command(
        "staff", "reset-password", "forgetful", "--base-url", "https://machi.example.jp/"
    )  # fmt: skip
    out = capsys.readouterr().out
    link = out.split("パスワード再設定リンク: ")[1].split()[0]
    assert link.startswith("https://machi.example.jp/account/password/")
    staff.refresh_from_db()
    assert staff.check_password(PASSWORD)  # nothing changed yet, nothing printed to use
    assert TOTPDevice.objects.filter(user=staff, confirmed=True).exists()
    path = link.removeprefix("https://machi.example.jp")
    response = Client().post(
        path, {"password1": "a-new-long-pass-1", "password2": "a-new-long-pass-1"}
    )
    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.check_password("a-new-long-pass-1")
    assert TOTPDevice.objects.filter(user=staff, confirmed=True).exists()


def test_reset_mfa_command_files_a_request_only(make_staff, municipality_a, capsys):
    from machi.accounts.models import MfaResetRequest

    staff = make_staff(municipality_a, ("shimin", "counter_clerk"), username="lost-phone")
    call_command("staff", "reset-mfa", "lost-phone")
    assert "承認" in capsys.readouterr().out
    request = MfaResetRequest.objects.get(staff=staff)
    assert (request.requested_by, request.requested_via, request.approved_at) == (None, "cli", None)
    assert TOTPDevice.objects.filter(user=staff).exists()
    with pytest.raises(CommandError, match="申請中"):
        call_command("staff", "reset-mfa", "lost-phone")
    with pytest.raises(CommandError, match="nobody"):
        call_command("staff", "reset-mfa", "nobody")


def test_set_email_command(make_staff, municipality_a):
    staff = make_staff(municipality_a, ("shimin", "counter_clerk"), username="mailme")
    call_command("staff", "set-email", "mailme", "mailme@city.example.lg.jp")
    staff.refresh_from_db()
    assert staff.email == "mailme@city.example.lg.jp"
    with pytest.raises(CommandError):
        call_command("staff", "set-email", "mailme", "not an address")
    staff.refresh_from_db()
    assert staff.email == "mailme@city.example.lg.jp"
