"""`machi demo`: seed the demo municipalities, staff and residents; print how to log in."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from machi.web.demo import (
    DEMO_MUNICIPALITIES,
    DEMO_PASSWORD,
    DEMO_RESIDENTS,
    demo_residents_seed,
    demo_seed,
)


class Command(BaseCommand):
    help = (
        "Create the demo municipalities (131016 千代田区, 271403 堺市), demo staff and "
        "synthetic residents."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--quiet", action="store_true", help="print nothing")
        parser.add_argument(
            "--residents",
            type=int,
            default=DEMO_RESIDENTS,
            metavar="N",
            help=(
                f"synthetic residents per municipality (default {DEMO_RESIDENTS:,}; 0 skips); "
                "a municipality that already has residents gets none"
            ),
        )
        parser.add_argument(
            "--seed", type=int, default=0, help="seed of the synthetic residents (default 0)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["residents"] < 0:
            raise CommandError("--residents must be 0 or more")
        quiet = options["quiet"]
        logins = demo_seed()
        if options["residents"]:
            for lg_code, name, _ in DEMO_MUNICIPALITIES:
                if not quiet:
                    self.stdout.write(
                        f"住民を作成しています / seeding residents: {lg_code} {name} …"
                    )
                result = demo_residents_seed(
                    lg_code=lg_code, count=options["residents"], seed=options["seed"]
                )
                if quiet:
                    continue
                if result.created or result.rejected:
                    self.stdout.write(
                        f"  {lg_code} {name}: 住民 {result.created:,} 人 {result.seconds:.1f} s"
                    )
                else:
                    self.stdout.write(f"  {lg_code} {name}: 住民登録済みのため追加しません")
        if quiet:
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
