"""`machi contact mail-in --tenant <lg_code>`: receive one mail from standard input, as
a Postfix or Exim pipe transport runs it.

Exit codes follow sendmail's (sysexits.h), which MTAs understand: 0 the mail was taken
(a ticket, a message, a quarantine entry or a dropped bounce), 67 EX_NOUSER no such
municipality (the MTA bounces it), 75 EX_TEMPFAIL a temporary failure (the database
away: the MTA keeps the mail and tries again).
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DatabaseError

from machi.contact.mail.receive import mail_receive
from machi.tenancy.context import tenant_context
from machi.tenancy.databases import UnknownTenantError

EX_OK, EX_NOUSER, EX_TEMPFAIL = 0, 67, 75


class Command(BaseCommand):
    help = "The contact center's mail channel."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        mail_in = sub.add_parser("mail-in", help="receive one RFC 5322 message from stdin")
        mail_in.add_argument("--tenant", required=True, metavar="LG_CODE")

    def handle(self, *args: Any, **options: Any) -> None:
        raw = sys.stdin.buffer.read()
        try:
            with tenant_context(options["tenant"]):
                result = mail_receive(raw=raw, source="pipe")
        except UnknownTenantError:
            self.stderr.write(f"unknown municipality: {options['tenant']}")
            sys.exit(EX_NOUSER)
        except DatabaseError as error:
            self.stderr.write(f"temporary failure: {type(error).__name__}")
            sys.exit(EX_TEMPFAIL)
        ticket = result.ticket.number if result.ticket else ""
        self.stdout.write(f"{result.outcome} {ticket}".strip())
