"""`machi otp-code <username>`: the current TOTP code of a user (MACHI_DEBUG only)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from machi.accounts.selectors import totp_current_code


class Command(BaseCommand):
    help = "Print a staff member's current TOTP code (only with MACHI_DEBUG on)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "otp-code は MACHI_DEBUG=1 のときだけ使えます（本番では使えません）。"
            )
        code = totp_current_code(username=options["username"])
        if code is None:
            raise CommandError(f"{options['username']} に登録済みの認証アプリはありません。")
        self.stdout.write(code)
