"""`machi moves relay [--tenant <code>] [--forever] [--interval <s>]`: catch up the relay."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from machi.moves.relay import moves_relay, moves_relay_all
from machi.tenancy.databases import UnknownTenantError


class Command(BaseCommand):
    help = "Relay one-step moves (引越しワンストップ) between municipalities from their outboxes."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        relay = sub.add_parser(
            "relay", help="handle new move events (all municipalities by default)"
        )
        relay.add_argument("--tenant", metavar="LG_CODE", help="only this municipality's outbox")
        relay.add_argument("--forever", action="store_true", help="keep polling")
        relay.add_argument("--interval", type=float, default=2.0, help="seconds between passes")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            try:
                if options["tenant"]:
                    results = [moves_relay(lg_code=options["tenant"])]
                else:
                    results = moves_relay_all()
            except UnknownTenantError as error:
                raise CommandError(str(error)) from error
            for result in results:
                if result.events or not options["forever"]:
                    self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
            if not options["forever"]:
                return
            time.sleep(options["interval"])
