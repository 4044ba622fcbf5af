"""A base for management commands that work inside one municipality (`--tenant`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from machi.tenancy.context import tenant_context
from machi.tenancy.databases import UnknownTenantError


class TenantCommand(BaseCommand):
    tenant_required = True

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--tenant",
            required=self.tenant_required,
            metavar="LG_CODE",
            help="the municipality's 全国地方公共団体コード",
        )

    def execute(self, *args: Any, **options: Any) -> Any:
        lg_code = options.get("tenant")
        if not lg_code:
            return super().execute(*args, **options)
        try:
            with tenant_context(lg_code):
                return super().execute(*args, **options)
        except UnknownTenantError as error:
            raise CommandError(str(error)) from error
