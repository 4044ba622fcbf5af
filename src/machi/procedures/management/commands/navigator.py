"""`machi navigator --input scenario.json [--tenant <lg_code>]`: print the navigator's output.

Without ``--tenant`` the default catalogue is used; with it, the municipality's effective
catalogue (its override and closed days). ``--input -`` reads standard input. Bad input
→ the errors, one per line, and exit status 1 (no traceback).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from machi.procedures.engine import CatalogueError, NavigatorInputError, RuleEvaluationError
from machi.procedures.selectors import navigator_run
from machi.tenancy.commands import TenantCommand


class Command(TenantCommand):
    help = "手続きナビゲーター: ライフイベントの JSON から必要な手続きの JSON を出力します"
    tenant_required = False

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--input", required=True, metavar="FILE", help="入力 JSON（- で標準入力）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source = options["input"]
        try:
            if source == "-":
                text = sys.stdin.read()
            else:
                text = Path(source).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"{source}: 読めません: {error}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise CommandError(
                f"{source}: {error.lineno}行 {error.colno}列: JSON として読めません: {error.msg}"
            ) from None
        try:
            result = navigator_run(data=data)
        except (NavigatorInputError, CatalogueError, RuleEvaluationError) as error:
            raise CommandError("\n".join(getattr(error, "errors", [str(error)]))) from None
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
