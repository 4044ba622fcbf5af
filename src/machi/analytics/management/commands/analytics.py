"""`machi analytics …`: ``forecast`` (the counter-demand forecast and its backtest,
machi.analytics.forecast) and ``accesslog`` (the access-log analyses,
machi.analytics.accesslog). Each subcommand's arguments and work live in its app's
``cli`` module: ``add_arguments(parser)`` and ``handle(options, stdout)``.
"""

from __future__ import annotations

from typing import Any

from machi.analytics.accesslog import cli as accesslog_cli
from machi.analytics.forecast import cli as forecast_cli
from machi.tenancy.commands import TenantCommand

SUBCOMMANDS = {"forecast": forecast_cli, "accesslog": accesslog_cli}


class Command(TenantCommand):
    help = "Analytics: the counter-demand forecast, the access-log analyses."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for name, module in SUBCOMMANDS.items():
            subparser = sub.add_parser(name, help=module.HELP)
            super().add_arguments(subparser)
            module.add_arguments(subparser)

    def handle(self, *args: Any, **options: Any) -> None:
        SUBCOMMANDS[options["action"]].handle(options, self.stdout)
