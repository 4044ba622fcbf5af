"""`machi opendata …`: ``harvest`` (mirror a CKAN catalogue from a package_search JSON
file or URL) and ``publish-standard`` (build a 自治体標準オープンデータセット from machi's
own data and publish it: machi.opendata.standard).
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from machi.opendata import harvest
from machi.opendata.services import OpendataError
from machi.tenancy.commands import TenantCommand
from machi.tenancy.context import current_lg_code

STANDARD_DATASETS = ("population", "shelters", "facilities", "aed")


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"日付は YYYY-MM-DD で指定してください: {value}") from None


class Command(TenantCommand):
    help = "Open data catalogue: harvest a CKAN catalogue, publish a standard dataset."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        pull = sub.add_parser("harvest", help="mirror the packages of a CKAN package_search")
        super().add_arguments(pull)
        pull.add_argument("source", help="a package_search JSON file, or its http(s) URL")
        standard = sub.add_parser("publish-standard", help="publish a standard dataset")
        super().add_arguments(standard)
        standard.add_argument("--dataset", required=True, choices=STANDARD_DATASETS)
        standard.add_argument("--date", type=_date, help="reference date (YYYY-MM-DD)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "publish-standard":
            # The standard datasets are their own app (machi.opendata.standard).
            from machi.opendata.standard.cli import publish_standard_command

            publish_standard_command(
                lg_code=current_lg_code(), dataset=options["dataset"], date=options["date"],
                stdout=self.stdout,
            )  # fmt: skip
            return
        source = options["source"]
        try:
            if source.startswith(("https://", "http://")):
                payload = harvest.fetch(source)
            else:
                try:
                    payload = json.loads(Path(source).read_text(encoding="utf-8-sig"))
                except (OSError, ValueError) as error:
                    raise CommandError(f"{source} を JSON として読めません: {error}") from error
            outcome = harvest.harvest_import(payload=payload, source=source)
        except OpendataError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(
            f"取り込み: 新規 {len(outcome.created)}、更新 {len(outcome.updated)}、"
            f"変更なし {len(outcome.unchanged)}、公開停止 {len(outcome.withdrawn)}、"
            f"自団体と同名のため除外 {len(outcome.skipped)}"
        )
        for name in outcome.skipped:
            self.stdout.write(f"  除外: {name}")
