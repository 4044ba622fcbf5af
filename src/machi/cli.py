"""The `machi` command: Django's manage.py for this project (`machi migrate`, `machi demo`…)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "machi.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "machi"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
