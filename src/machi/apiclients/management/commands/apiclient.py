"""`machi apiclient create|list|revoke --tenant <code> …`: a municipality's API clients.

create  --name NAME --scopes events:read,residents:read [--expires 2027-03-31]
        registers a client and prints its token once (it is stored hashed)
list    [--json]     the clients, with scopes, expiry, last use and state
revoke  ID           every later call with the client's token gets 401
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.utils import timezone

from machi.apiclients import selectors, services
from machi.apiclients.models import Scope
from machi.audit.services import CLI_TERMINAL
from machi.tenancy.commands import TenantCommand


def _iso(value: datetime.datetime | None) -> str | None:
    """Local time (Japan), as the operator reads it."""
    return timezone.localtime(value).isoformat() if value else None


class Command(TenantCommand):
    help = "Register, list and revoke the API clients of one municipality."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="register a client; prints its token once")
        super().add_arguments(create)
        create.add_argument("--name", required=True, help="the system, e.g. 国保システム")
        create.add_argument(
            "--scopes", required=True, help=f"comma-separated: {', '.join(Scope.values)}"
        )
        create.add_argument(
            "--expires", help="last day of validity (YYYY-MM-DD, through that day, local time)"
        )
        listing = sub.add_parser("list", help="the municipality's clients")
        super().add_arguments(listing)
        listing.add_argument("--json", action="store_true", help="one JSON object per line")
        revoke = sub.add_parser("revoke", help="revoke a client's token")
        super().add_arguments(revoke)
        revoke.add_argument("id", type=int, help="the client's id (see list)")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _create(self, options: dict[str, Any]) -> None:
        expires_at = None
        if options["expires"]:
            try:
                day = datetime.date.fromisoformat(options["expires"])
            except ValueError as error:
                raise CommandError(
                    f"--expires は YYYY-MM-DD で指定してください: {options['expires']}"
                ) from error
            expires_at = services.expiry_end_of_day(day)
        try:
            created = services.apiclient_create(
                name=options["name"],
                scopes=options["scopes"].split(","),
                expires_at=expires_at,
                terminal=CLI_TERMINAL,
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        client = created.client
        self.stderr.write(
            f"APIクライアント {client.pk}「{client.name}」を登録しました"
            f"（権限: {', '.join(client.scopes)}"
            f"{'、有効期限: ' + _iso(client.expires_at) if client.expires_at else ''}）。"
            "トークンは今だけ表示されます:"
        )
        self.stdout.write(created.token)

    def _list(self, options: dict[str, Any]) -> None:
        for client in selectors.apiclient_list():
            state = "revoked" if client.revoked_at else "active" if client.active else "expired"
            row = {
                "id": client.pk,
                "name": client.name,
                "scopes": client.scopes,
                "token_prefix": client.token_prefix,
                "created_at": _iso(client.created_at),
                "created_by": client.created_by_username,
                "expires_at": _iso(client.expires_at),
                "revoked_at": _iso(client.revoked_at),
                "last_used_at": _iso(client.last_used_at),
                "state": state,
            }
            if options["json"]:
                self.stdout.write(json.dumps(row, ensure_ascii=False))
            else:
                self.stdout.write(
                    "\t".join(
                        [
                            str(client.pk),
                            client.name,
                            ",".join(client.scopes),
                            f"{client.token_prefix}…",
                            row["expires_at"] or "-",
                            row["last_used_at"] or "-",
                            state,
                        ]
                    )
                )

    def _revoke(self, options: dict[str, Any]) -> None:
        client = selectors.apiclient_get(pk=options["id"])
        if client is None:
            raise CommandError(f"APIクライアント {options['id']} はありません。")
        if client.revoked_at is not None:
            self.stderr.write(f"APIクライアント {client.pk}「{client.name}」は失効済みです。")
            return
        services.apiclient_revoke(client=client, terminal=CLI_TERMINAL)
        self.stdout.write(f"APIクライアント {client.pk}「{client.name}」を失効させました。")
