"""`machi staff create|reset-password|reset-mfa|set-email|list`: staff accounts from the
command line.

Used by platform operators to create a municipality's first administrator, and by
operators of the platform itself (`--operator`). The command line follows the rule of
the web screens: nobody is shown a password of someone else. `reset-password` prints a
one-time link for the member (password only; their second factor stays), `reset-mfa`
files a request that an administrator of the municipality must approve.
"""

from __future__ import annotations

import getpass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from machi.accounts import selectors, services
from machi.accounts.models import Staff
from machi.accounts.roles import MY_NUMBER_DEPARTMENTS, Role
from machi.tenancy.selectors import municipality_get


def _membership(text: str) -> tuple[str, str]:
    department, _, role = text.partition(":")
    if not department or role not in Role.values:
        raise CommandError(
            f"--role は 課コード:役割 の形で指定します（役割: {', '.join(Role.values)}）: {text!r}"
        )
    return department, role


class Command(BaseCommand):
    help = "Create staff members, reset their passwords, list them."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a staff member")
        who = create.add_mutually_exclusive_group(required=True)
        who.add_argument("--tenant", metavar="LG_CODE", help="the staff member's municipality")
        who.add_argument("--operator", action="store_true", help="a platform operator")
        create.add_argument("--username", required=True)
        create.add_argument("--name", required=True, help="display name, e.g. 窓口 花子")
        create.add_argument(
            "--role",
            action="append",
            default=[],
            metavar="DEPT:ROLE",
            help="e.g. shimin:counter_clerk (repeatable)",
        )
        create.add_argument(
            "--reveal-my-number",
            action="append",
            default=[],
            metavar="DEPT",
            help=f"may reveal My Numbers in DEPT ({', '.join(sorted(MY_NUMBER_DEPARTMENTS))})",
        )
        create.add_argument("--password", help="default: asked on the terminal")
        create.add_argument("--email", default="", help="where account notices are mailed")
        reset = sub.add_parser(
            "reset-password", help="a one-time link for the member to set a new password"
        )
        reset.add_argument("username")
        reset.add_argument(
            "--base-url", default="", help="the site's address, e.g. https://machi.example.jp"
        )
        mfa = sub.add_parser(
            "reset-mfa", help="request an MFA reset (an administrator of the municipality approves)"
        )
        mfa.add_argument("username")
        email = sub.add_parser("set-email", help="set (or with '' clear) a member's mail address")
        email.add_argument("username")
        email.add_argument("email")
        listing = sub.add_parser("list", help="staff of a municipality")
        listing.add_argument("--tenant", metavar="LG_CODE", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["action"].replace("-", "_"))(options)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error

    def _municipality(self, lg_code: str):
        municipality = municipality_get(lg_code=lg_code)
        if municipality is None:
            raise CommandError(f"自治体コード {lg_code} の自治体は登録されていません。")
        return municipality

    def _create(self, options: dict[str, Any]) -> None:
        password = options["password"] or getpass.getpass("パスワード: ")
        staff = services.staff_create(
            username=options["username"],
            display_name=options["name"],
            password=password,
            municipality=self._municipality(options["tenant"]) if options["tenant"] else None,
            memberships=[_membership(text) for text in options["role"]],
            reveal_my_number_departments=frozenset(options["reveal_my_number"]),
            is_platform_operator=options["operator"],
            email=options["email"],
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"職員 {staff.username} を作成しました。初回ログイン時に二要素認証を登録します。"
            )
        )

    def _staff(self, username: str) -> Staff:
        staff = Staff.objects.filter(username=username).first()
        if staff is None:
            raise CommandError(f"職員 {username} はいません。")
        return staff

    def _reset_password(self, options: dict[str, Any]) -> None:
        staff = self._staff(options["username"])
        token = services.staff_password_link_create(staff=staff, by=None)
        path = reverse("accounts:password_set", args=[token])
        hours = int(services.PASSWORD_LINK_LIFETIME.total_seconds() // 3600)
        self.stdout.write(f"パスワード再設定リンク: {options['base_url'].rstrip('/')}{path}")
        self.stdout.write(
            f"本人だけに別の方法で渡してください（1回だけ、{hours}時間以内に使えます）。"
            "設定できるのはパスワードだけで、二要素認証の登録はそのままです。"
        )

    def _reset_mfa(self, options: dict[str, Any]) -> None:
        staff = self._staff(options["username"])
        services.mfa_reset_request(staff=staff, by=None)
        self.stdout.write(
            f"{staff.username} の二要素認証の再設定を申請しました。"
            "自治体の管理者（本人以外）が職員管理の画面で承認すると実行されます。"
        )

    def _set_email(self, options: dict[str, Any]) -> None:
        services.staff_set_email(staff=self._staff(options["username"]), email=options["email"])
        self.stdout.write("メールアドレスを設定しました。")

    def _list(self, options: dict[str, Any]) -> None:
        for staff in selectors.staff_list(municipality=self._municipality(options["tenant"])):
            roles = ", ".join(
                f"{m.department.code}:{m.role}{' (個人番号)' if m.can_reveal_my_number else ''}"
                for m in staff.memberships.all()
            )
            self.stdout.write(f"{staff.username}\t{staff.display_name}\t{roles}")
