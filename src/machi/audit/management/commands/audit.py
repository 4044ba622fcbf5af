"""`machi audit verify --tenant <code>` (or --platform): recompute the hash chain."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from machi.audit.selectors import audit_verify, platform_audit_verify
from machi.tenancy.commands import TenantCommand


class Command(TenantCommand):
    help = "Verify a municipality's (or the platform's) audit log hash chain."
    tenant_required = False

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="recompute the chain; report the first broken entry")
        super().add_arguments(verify)
        verify.add_argument("--platform", action="store_true", help="the platform's own log")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["platform"] == bool(options["tenant"]):
            raise CommandError(
                "--tenant <自治体コード> か --platform のどちらか一方を指定してください。"
            )
        result = platform_audit_verify() if options["platform"] else audit_verify()
        label = "基盤" if options["platform"] else f"自治体 {options['tenant']}"
        if result.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"{label} の監査ログ {result.entries} 件: ハッシュチェーンは正常です"
                )
            )
            return
        raise CommandError(
            f"{label} の監査ログに異常があります: {result.position} 件目"
            f"（通番 {result.seq}）: {result.reason}"
        )
