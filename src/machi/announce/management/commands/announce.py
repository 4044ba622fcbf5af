"""`machi announce publish --tenant <lg_code> --title … --body … --category …`: publish
an announcement to every channel from the command line and print its id and URL.

The operator's shell is trusted like the other `machi` commands: the announcement is
audited as published from the command line (with no staff member).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import CommandError
from django.utils.dateparse import parse_datetime

from machi.announce.delivery import deliveries_run
from machi.announce.links import absolute
from machi.announce.models import Severity, Urgency
from machi.announce.services import AnnouncementError, announcement_create, announcement_publish
from machi.audit.services import CLI_TERMINAL
from machi.tenancy.commands import TenantCommand


def _when(value: str | None) -> datetime.datetime | None:
    if not value:
        return None
    moment = parse_datetime(value)
    if moment is None or moment.tzinfo is None:
        raise CommandError(f"--valid-until needs a date and time with an offset: {value!r}")
    return moment


class Command(TenantCommand):
    help = "Announcements: publish one to every channel."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        publish = sub.add_parser("publish", help="publish an announcement to every channel")
        super().add_arguments(publish)
        publish.add_argument("--title", required=True, help="the Japanese title")
        publish.add_argument("--body", required=True, help="the Japanese body (Markdown)")
        publish.add_argument("--category", required=True, help="bousai, kurashi, kosodate, …")
        publish.add_argument("--urgency", default=Urgency.UNKNOWN, choices=Urgency.values)
        publish.add_argument("--severity", default=Severity.UNKNOWN, choices=Severity.values)
        publish.add_argument("--area", default="", help="the area's name (default: everywhere)")
        publish.add_argument(
            "--valid-until", help="ISO 8601 with offset, e.g. 2026-12-08T18:00+09:00"
        )
        for code, name in (("ja-easy", "easy"), ("en", "en")):
            publish.add_argument(f"--title-{name}", default="", help=f"the {code} title")
            publish.add_argument(f"--body-{name}", default="", help=f"the {code} body")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            announcement = announcement_create(
                actor=None, command_line=True, terminal=CLI_TERMINAL,
                title={"ja": options["title"], "ja-easy": options["title_easy"],
                       "en": options["title_en"]},
                body={"ja": options["body"], "ja-easy": options["body_easy"],
                      "en": options["body_en"]},
                category=options["category"], urgency=options["urgency"],
                severity=options["severity"], area_name=options["area"],
                valid_until=_when(options["valid_until"]),
            )  # fmt: skip
            announcement = announcement_publish(
                announcement=announcement, actor=None, command_line=True, terminal=CLI_TERMINAL
            )
        except AnnouncementError as error:
            raise CommandError(error.messages[0]) from error
        # The worker would run the channels too; running them here lets the operator see
        # the outcome (a row already taken by the worker is skipped).
        states = deliveries_run(announcement_id=announcement.pk)
        self.stdout.write(f"{announcement.pk} {absolute(announcement.get_absolute_url())}")
        summary = ", ".join(f"{state}: {count}" for state, count in states.items() if count)
        if summary:
            self.stderr.write(f"channels {summary}")
