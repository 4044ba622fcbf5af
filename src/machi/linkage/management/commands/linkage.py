"""`machi linkage worker|status|prune`: the webhook delivery worker, subscription health,
and the retention of delivery history.

worker  [--tenant CODE …] [--threads 8] [--poll 0.1] [--timeout 10]
        long-running; serves every municipality (or those named); safe to kill at any
        moment (nothing is lost; at worst an event is delivered twice)
status  [--tenant CODE] [--json]   per subscription: lag in events and seconds,
        pending, failing, dead letters
prune   [--tenant CODE] [--dry-run] [--json]   delete delivered deliveries and dead
        letters older than their retention (the worker does it hourly by itself)
"""

from __future__ import annotations

import json
import signal
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from machi.audit.services import CLI_TERMINAL
from machi.linkage.delivery import DeliveryWorker
from machi.linkage.services import deliveries_prune
from machi.linkage.webhook_selectors import deliveries_prune_last, subscriptions_health
from machi.tenancy.context import tenant_context
from machi.tenancy.databases import UnknownTenantError


class Command(BaseCommand):
    help = "Run the webhook delivery worker, or report the health of subscriptions."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        worker = sub.add_parser("worker", help="deliver webhooks until stopped")
        worker.add_argument("--tenant", action="append", metavar="LG_CODE", default=None)
        worker.add_argument("--threads", type=int, default=8, help="parallel requests")
        worker.add_argument("--poll", type=float, default=0.1, help="seconds between polls")
        worker.add_argument("--timeout", type=float, default=10.0, help="request timeout (s)")
        worker.add_argument(
            "--report", type=float, default=60.0, help="seconds between progress lines"
        )
        status = sub.add_parser("status", help="lag, failures and dead letters")
        status.add_argument("--tenant", metavar="LG_CODE")
        status.add_argument("--json", action="store_true")
        prune = sub.add_parser("prune", help="delete old delivered deliveries and dead letters")
        prune.add_argument("--tenant", metavar="LG_CODE")
        prune.add_argument("--dry-run", action="store_true", help="count only, delete nothing")
        prune.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, options["action"])(options)

    @staticmethod
    def _lg_codes(options: dict[str, Any]) -> list[str]:
        if options["tenant"]:
            return [options["tenant"]]
        from machi.tenancy.models import Municipality

        return list(Municipality.objects.order_by("lg_code").values_list("lg_code", flat=True))

    def worker(self, options: dict[str, Any]) -> None:
        if options["threads"] < 1 or options["poll"] <= 0 or options["timeout"] <= 0:
            raise CommandError("--threads, --poll and --timeout must be positive")
        for lg_code in options["tenant"] or []:
            try:
                with tenant_context(lg_code):
                    pass
            except UnknownTenantError as error:
                raise CommandError(str(error)) from error
        last_report = time.monotonic()
        report_every = options["report"]

        def report(worker: DeliveryWorker) -> None:
            nonlocal last_report
            if report_every and time.monotonic() - last_report >= report_every:
                last_report = time.monotonic()
                s = worker.stats
                self.stdout.write(
                    f"delivered {s.delivered}, failed attempts {s.failed}, dead {s.dead}, "
                    f"scheduled {s.scheduled}, pruned {s.pruned}"
                )
                self.stdout.flush()

        worker = DeliveryWorker(
            lg_codes=options["tenant"],
            threads=options["threads"],
            poll_interval=options["poll"],
            timeout=options["timeout"],
            on_cycle=report,
        )

        def stop(signum: int, frame: Any) -> None:
            worker.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(
            f"webhook worker started ({options['threads']} threads, poll {options['poll']} s)"
        )
        self.stdout.flush()
        worker.run()
        s = worker.stats
        self.stdout.write(
            f"webhook worker stopped: delivered {s.delivered}, failed attempts {s.failed}, "
            f"dead {s.dead}, scheduled {s.scheduled}, pruned {s.pruned}"
        )

    def status(self, options: dict[str, Any]) -> None:
        lg_codes = self._lg_codes(options)
        report: dict[str, list[dict[str, Any]]] = {}
        pruned: dict[str, Any] = {}
        for lg_code in lg_codes:
            try:
                with tenant_context(lg_code):
                    report[lg_code] = [row.as_json() for row in subscriptions_health()]
                    if not options["json"]:
                        pruned[lg_code] = deliveries_prune_last()
            except UnknownTenantError as error:
                raise CommandError(str(error)) from error
        if options["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"配信履歴の保存期間: {self._retention()}")
        for lg_code, rows in report.items():
            last = pruned[lg_code]
            when = (
                f"最終削除 {timezone.localtime(last[0]):%Y-%m-%d %H:%M}"
                f"（配信済み {last[1].get('delivered', 0)}件, 配信不能 {last[1].get('dead', 0)}件）"
                if last
                else "削除の記録なし"
            )
            self.stdout.write(f"{lg_code}: 購読 {len(rows)} 件, {when}")
            for r in rows:
                state = "有効" if r["active"] else "停止"
                self.stdout.write(
                    f"  {r['id']} {state} {r['name']} 遅れ {r['lag_events']}件 "
                    f"{r['lag_seconds']:.1f}秒, 未配信 {r['pending']}, 失敗中 {r['failing']}, "
                    f"配信不能 {r['dead']}"
                )

    @staticmethod
    def _retention() -> str:
        def days(n: int) -> str:
            return f"{n}日" if n else "無期限"

        delivered = settings.MACHI_WEBHOOK_DELIVERED_RETENTION_DAYS
        dead = settings.MACHI_WEBHOOK_DEAD_RETENTION_DAYS
        return f"配信済み {days(delivered)}, 配信不能 {days(dead)}"

    def prune(self, options: dict[str, Any]) -> None:
        report: dict[str, dict[str, Any]] = {}
        for lg_code in self._lg_codes(options):
            try:
                with tenant_context(lg_code):
                    counts = deliveries_prune(dry_run=options["dry_run"], terminal=CLI_TERMINAL)
            except UnknownTenantError as error:
                raise CommandError(str(error)) from error
            report[lg_code] = counts.as_json()
        if options["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))
            return

        self.stdout.write(
            f"保存期間: {self._retention()}"
            + ("（試行のみ、削除しません）" if options["dry_run"] else "")
        )
        verb = "削除対象" if options["dry_run"] else "削除"
        for lg_code, c in report.items():
            self.stdout.write(
                f"{lg_code}: {verb} 配信済み {c['delivered']}件, 配信不能 {c['dead']}件"
            )
