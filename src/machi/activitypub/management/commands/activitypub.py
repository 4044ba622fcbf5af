"""``machi activitypub --tenant <code> status|follow <address>|deliver|block <host>|unblock
<host>``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from machi.tenancy.commands import TenantCommand


class Command(TenantCommand):
    help = "The municipality's ActivityPub actor: status, follow another actor, deliver now."

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status", help="handle, followers, followings, deliveries by state")
        follow = sub.add_parser("follow", help="follow acct:user@host or an actor URL")
        follow.add_argument("address")
        sub.add_parser("deliver", help="send the deliveries that are due, now")
        block = sub.add_parser("block", help="refuse a remote server (and its subdomains)")
        block.add_argument("host")
        block.add_argument("--reason", default="")
        unblock = sub.add_parser("unblock", help="lift the block of a remote server")
        unblock.add_argument("host")

    def handle(self, *args: Any, **options: Any) -> None:
        from django.db.models import Count

        from machi.activitypub import documents
        from machi.activitypub.delivery import deliveries_send_due
        from machi.activitypub.models import Delivery, Following
        from machi.activitypub.selectors import blocked_servers, follower_count
        from machi.activitypub.services import (
            actor_ensure,
            following_start,
            server_block,
            server_unblock,
        )
        from machi.tenancy.context import current_lg_code

        lg_code = current_lg_code()
        action = options["action"]
        if action == "follow":
            try:
                following = following_start(address=options["address"])
            except ValueError as error:
                raise CommandError(str(error)) from error
            self.stdout.write(f"Follow queued: {following.actor_id}")
        elif action == "block":
            try:
                removed = server_block(host=options["host"], reason=options["reason"])
            except ValueError as error:
                raise CommandError(str(error)) from error
            self.stdout.write(
                f"blocked: {options['host'].strip().lower()} ({removed} follower(s) removed)"
            )
        elif action == "unblock":
            if not server_unblock(host=options["host"]):
                raise CommandError(f"{options['host']} is not blocked")
            self.stdout.write(f"unblocked: {options['host'].strip().lower()}")
        elif action == "deliver":
            counts = deliveries_send_due()
            self.stdout.write(" ".join(f"{state}={n}" for state, n in counts.items()))
        else:
            actor_ensure()
            origin = documents.public_origin()
            host = origin.split("://", 1)[1]
            self.stdout.write(f"actor: @{lg_code}@{host} ({documents.actor_url(origin, lg_code)})")
            self.stdout.write(f"followers: {follower_count()}")
            for following in Following.objects.order_by("actor_id"):
                state = "accepted" if following.accepted_at else "requested"
                self.stdout.write(f"following: {following.actor_id} ({state})")
            for server in blocked_servers():
                self.stdout.write(f"blocked: {server.host} {server.reason}".rstrip())
            states = Delivery.objects.values_list("state").annotate(n=Count("pk"))
            self.stdout.write(
                "deliveries: " + (" ".join(f"{s}={n}" for s, n in sorted(states)) or "none")
            )
