"""`machi tenant create|list`: manage municipalities (platform operators)."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from machi.tenancy import selectors, services
from machi.tenancy.dbconfig import redact_url


class Command(BaseCommand):
    help = "Create and list municipalities (each has its own database)."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="register a municipality and create its database")
        create.add_argument("--code", required=True, help="全国地方公共団体コード (6 digits)")
        create.add_argument("--name", required=True, help="name, e.g. 千代田区")
        create.add_argument("--prefecture", help="defaults to the prefecture of the code")
        create.add_argument("--database-url", help="defaults to the template or a SQLite file")
        listing = sub.add_parser("list", help="list municipalities")
        listing.add_argument("--json", action="store_true", help="one JSON object per line")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "create":
            self._create(options)
        else:
            self._list(options)

    def _create(self, options: dict[str, Any]) -> None:
        try:
            municipality = services.municipality_create(
                lg_code=options["code"],
                name=options["name"],
                prefecture=options["prefecture"],
                database_url=options["database_url"],
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        except services.TenantError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"自治体 {municipality.lg_code} {municipality.prefecture}{municipality.name} "
                "を作成しました"
                f"（データベース: {redact_url(municipality.database_url)}）"
            )
        )

    def _list(self, options: dict[str, Any]) -> None:
        for m in selectors.municipality_list():
            row = {
                "lg_code": m.lg_code,
                "name": m.name,
                "prefecture": m.prefecture,
                "database": redact_url(m.database_url),
                "active": m.is_active,
            }
            if options["json"]:
                self.stdout.write(json.dumps(row, ensure_ascii=False))
            else:
                self.stdout.write(f"{m.lg_code}\t{m.prefecture}\t{m.name}\t{row['database']}")
