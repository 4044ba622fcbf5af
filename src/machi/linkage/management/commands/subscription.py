"""`machi subscription create|list|disable|deliveries|resend --tenant <code> …`: webhooks.

create      --url URL --types jp.machi.resident.*,… [--secret whsec_…] [--name NAME]
            verifies the URL with a signed test event first; prints the secret once
            when it was generated
list        [--json]
disable     ID
deliveries  ID [--status pending|delivered|dead] [--limit N] [--json]
resend      DELIVERY_ID… | --all-dead [--subscription ID]   dead letters → pending
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from machi.audit.services import CLI_TERMINAL
from machi.linkage import services, webhook_selectors
from machi.linkage.models import Delivery, DeliveryStatus
from machi.tenancy.commands import TenantCommand


class Command(TenantCommand):
    help = "Manage a municipality's webhook subscriptions and their deliveries."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)

        create = sub.add_parser("create", help="register a webhook URL (verified first)")
        super().add_arguments(create)
        create.add_argument("--url", required=True)
        create.add_argument(
            "--types",
            default="",
            help="comma-separated type patterns, e.g. jp.machi.resident.* (empty: all types)",
        )
        create.add_argument("--secret", help="whsec_… (generated and printed when absent)")
        create.add_argument("--name", help="a name for the screens (default: the URL's host)")
        create.add_argument("--timeout", type=float, default=10.0, help="verification timeout")

        listing = sub.add_parser("list", help="subscriptions with their health")
        super().add_arguments(listing)
        listing.add_argument("--json", action="store_true")

        disable = sub.add_parser("disable", help="stop delivering to a subscription")
        super().add_arguments(disable)
        disable.add_argument("id", type=int)

        deliveries = sub.add_parser("deliveries", help="a subscription's deliveries")
        super().add_arguments(deliveries)
        deliveries.add_argument("id", type=int)
        deliveries.add_argument("--status", choices=DeliveryStatus.values)
        deliveries.add_argument("--limit", type=int, default=50)
        deliveries.add_argument("--json", action="store_true")

        resend = sub.add_parser("resend", help="send dead letters again")
        super().add_arguments(resend)
        resend.add_argument("ids", nargs="*", type=int, metavar="DELIVERY_ID")
        resend.add_argument("--all-dead", action="store_true", help="every dead letter")
        resend.add_argument("--subscription", type=int, help="with --all-dead: only this one")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "do_" + options["action"])(options)

    def _subscription(self, pk: int):
        subscription = webhook_selectors.subscription_get(pk=pk)
        if subscription is None:
            raise CommandError(f"購読 {pk} はありません。")
        return subscription

    def do_create(self, options: dict[str, Any]) -> None:
        types = [t.strip() for t in options["types"].split(",") if t.strip()]
        name = options["name"] or (urlsplit(options["url"]).hostname or options["url"])[:100]
        try:
            subscription, secret = services.subscription_create(
                name=name,
                url=options["url"],
                types=types,
                secret=options["secret"],
                terminal=CLI_TERMINAL,
                verify_timeout=options["timeout"],
            )
        except ValidationError as error:
            raise CommandError("\n".join(error.messages)) from None
        self.stdout.write(f"購読 {subscription.pk} を登録しました（確認用イベントに応答あり）。")
        if not options["secret"]:
            self.stdout.write("署名鍵（この一度だけ表示します。受信側に設定してください）:")
            self.stdout.write(secret)

    def do_list(self, options: dict[str, Any]) -> None:
        rows = webhook_selectors.subscriptions_health()
        if options["json"]:
            self.stdout.write(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=2))
            return
        for r in rows:
            state = "有効" if r.active else "停止"
            self.stdout.write(
                f"{r.id}\t{state}\t{r.name}\t{r.url}\t{','.join(r.types) or '*'}\t"
                f"未配信 {r.lag_events}\t失敗中 {r.failing}\t配信不能 {r.dead}"
            )

    def do_disable(self, options: dict[str, Any]) -> None:
        subscription = self._subscription(options["id"])
        services.subscription_disable(subscription=subscription, terminal=CLI_TERMINAL)
        self.stdout.write(f"購読 {subscription.pk} を停止しました。")

    def do_deliveries(self, options: dict[str, Any]) -> None:
        subscription = self._subscription(options["id"])
        rows = webhook_selectors.subscription_deliveries(
            subscription=subscription, status=options["status"]
        )[: options["limit"]]
        data = [
            {
                "id": d.pk,
                "seq": d.seq,
                "event_id": str(d.event.event_id),
                "type": d.event.type,
                "status": d.status,
                "attempts": d.attempts,
                "next_attempt_at": d.next_attempt_at.isoformat(),
                "last_status_code": d.last_status_code,
                "last_error": d.last_error,
            }
            for d in rows
        ]
        if options["json"]:
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        for d in data:
            self.stdout.write(
                f"{d['id']}\t#{d['seq']}\t{d['type']}\t{d['status']}\t{d['attempts']}回\t"
                f"{d['last_error']}"
            )

    def do_resend(self, options: dict[str, Any]) -> None:
        if options["all_dead"] == bool(options["ids"]):
            raise CommandError("配信 ID か --all-dead のどちらか一方を指定してください。")
        if options["all_dead"]:
            rows = Delivery.objects.filter(status=DeliveryStatus.DEAD)
            if options["subscription"]:
                rows = rows.filter(subscription_id=options["subscription"])
        else:
            rows = Delivery.objects.filter(pk__in=options["ids"])
            found = set(rows.values_list("pk", flat=True))
            if missing := sorted(set(options["ids"]) - found):
                raise CommandError(f"配信 {', '.join(map(str, missing))} はありません。")
            not_dead = sorted(rows.exclude(status=DeliveryStatus.DEAD).values_list("pk", flat=True))
            if not_dead:
                raise CommandError(
                    f"配信 {', '.join(map(str, not_dead))} は配信不能ではありません"
                    "（再送は不要です）。"
                )
        count = services.delivery_resend(deliveries=list(rows), terminal=CLI_TERMINAL)
        self.stdout.write(f"{count} 件を再送します（配信ワーカーが送ります）。")
