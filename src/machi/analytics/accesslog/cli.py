"""The `machi analytics accesslog` subcommand."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

HELP = "(being built)"


def add_arguments(parser: Any) -> None:
    pass


def handle(options: dict[str, Any], stdout: Any) -> None:
    raise CommandError("not built yet")
