"""`machi board …` for the operator: ``user-create`` (an account taken as confirmed,
for a demonstration or a test; the address gets no mail), ``category`` (add or rename
a category of the municipality's board) and ``digest`` (send the daily digests now).

The operator's shell is trusted like the other `machi` commands: what it does is
audited as done from the command line.
"""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import CommandError

from machi.board import services
from machi.tenancy.commands import TenantCommand


class Command(TenantCommand):
    help = "Community board: create a confirmed account, add a category, send digests."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("user-create", help="a board account, already confirmed")
        super().add_arguments(create)
        create.add_argument("--email", required=True)
        create.add_argument("--name", required=True, help="the display name")
        create.add_argument("--password", help="asked for when omitted")
        category = sub.add_parser("category", help="add a category or rename one")
        super().add_arguments(category)
        category.add_argument("--code", required=True, help="e.g. chiiki, kosodate")
        category.add_argument("--name", required=True)
        category.add_argument("--description", default="")
        category.add_argument("--order", type=int)
        digest = sub.add_parser("digest", help="send the daily digests that are due")
        super().add_arguments(digest)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "user-create":
                user = services.user_create_confirmed(
                    email=options["email"], display_name=options["name"],
                    password=options["password"] or getpass.getpass("パスワード: "),
                )  # fmt: skip
                self.stdout.write(f"掲示板の利用者 {user.pk} を作成しました（確認済み）。")
            elif options["action"] == "category":
                row = services.category_save(
                    actor=None, code=options["code"], name=options["name"],
                    description=options["description"], order=options["order"],
                )  # fmt: skip
                self.stdout.write(f"分類 {row.code}「{row.name}」を保存しました。")
            else:
                self.stdout.write(f"ダイジェストを {services.digest_send()} 通送りました。")
        except services.BoardError as error:
            raise CommandError(" ".join(error.messages)) from error
