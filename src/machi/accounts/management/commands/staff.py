"""`machi staff create|reset-password|list`: staff accounts from the command line.

Used by platform operators to create a municipality's first administrator, and by
operators of the platform itself (`--operator`).
"""

from __future__ import annotations

import getpass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

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
        reset = sub.add_parser("reset-password", help="new temporary password, TOTP re-enrolment")
        reset.add_argument("username")
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
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"職員 {staff.username} を作成しました。初回ログイン時に二要素認証を登録します。"
            )
        )

    def _reset_password(self, options: dict[str, Any]) -> None:
        staff = Staff.objects.filter(username=options["username"]).first()
        if staff is None:
            raise CommandError(f"職員 {options['username']} はいません。")
        password = services.staff_reset_password(staff=staff, by=None)
        self.stdout.write(f"仮パスワード: {password}")
        self.stdout.write("二要素認証の登録は取り消されました。次回ログイン時に再登録します。")

    def _list(self, options: dict[str, Any]) -> None:
        for staff in selectors.staff_list(municipality=self._municipality(options["tenant"])):
            roles = ", ".join(
                f"{m.department.code}:{m.role}{' (個人番号)' if m.can_reveal_my_number else ''}"
                for m in staff.memberships.all()
            )
            self.stdout.write(f"{staff.username}\t{staff.display_name}\t{roles}")
