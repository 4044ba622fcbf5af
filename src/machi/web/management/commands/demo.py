"""`machi demo`: seed the demo municipalities and staff, and print how to log in."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from machi.web.demo import DEMO_PASSWORD, demo_seed


class Command(BaseCommand):
    help = "Create the demo municipalities (131016 千代田区, 271403 堺市) and demo staff."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--quiet", action="store_true", help="print nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        logins = demo_seed()
        if options["quiet"]:
            return
        self.stdout.write(self.style.SUCCESS("デモデータを用意しました / demo data ready"))
        self.stdout.write(f"パスワード (all demo users): {DEMO_PASSWORD}")
        for login in logins:
            self.stdout.write(
                f"  {login.username:<20} {login.municipality:<14} {login.roles}\n"
                f"      TOTP: {login.provisioning_uri}"
            )
        if settings.DEBUG:
            self.stdout.write("確認コード / current TOTP code: machi otp-code <username>")
