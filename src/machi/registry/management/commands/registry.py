"""`machi registry import|export|search --tenant <code> …`: the registry from the CLI.

import  FILE.csv [--gaiji-map MAP.csv] [--skip-invalid] [--rejects OUT.csv] [--update]
        [--check-atena-digits]   validate everything, write in one transaction
export  OUT.csv [--jis0208]      the same layout out (audited; My Numbers in clear)
search  --query TEXT [--birth DATE] [--limit N] [--json]   resident search (audited)
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from machi.audit.services import CLI_TERMINAL
from machi.japanese import GaijiMapError, load_gaiji_map
from machi.registry import selectors
from machi.registry.migration import (
    ImportOptions,
    ImportRejected,
    ImportResult,
    RejectsWriter,
    registry_export,
    registry_import,
)
from machi.registry.models import Status
from machi.tenancy.commands import TenantCommand

SEARCH_FUNCTION = "machi registry search"


class ProgressBar:
    """A dependency-free progress bar on a terminal (bytes of the file read)."""

    def __init__(self, stream: Any, total: int, width: int = 30) -> None:
        self.stream = stream
        self.total = max(total, 1)
        self.width = width
        self.started = time.monotonic()
        self._last = 0.0

    def __call__(self, done: int, written: int) -> None:
        now = time.monotonic()
        if now - self._last < 0.2 and done < self.total:
            return
        self._last = now
        share = min(done / self.total, 1.0)
        filled = int(share * self.width)
        elapsed = now - self.started
        rate = written / elapsed if elapsed else 0
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (self.width - filled)}] {share:6.1%} "
            f"{written:,}行 {rate:,.0f}行/秒",
            ending="",
        )
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("", ending="\n")


class Command(TenantCommand):
    help = "Import, export and search the resident registry of one municipality."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)

        imp = sub.add_parser("import", help="import a migration CSV (all or nothing)")
        super().add_arguments(imp)
        imp.add_argument("file", help="the CSV file (UTF-8, BOM allowed, LF or CRLF)")
        imp.add_argument("--gaiji-map", help="the gaiji map CSV (code,char,evidence)")
        imp.add_argument(
            "--skip-invalid",
            action="store_true",
            help="write the valid rows; the invalid ones go to --rejects",
        )
        imp.add_argument("--rejects", help="where rejected rows go, with their reasons")
        imp.add_argument(
            "--update", action="store_true", help="update residents whose 宛名番号 exists"
        )
        imp.add_argument(
            "--check-atena-digits",
            action="store_true",
            help="check the M11W2-7 check digit of 宛名番号 and 世帯番号",
        )

        exp = sub.add_parser("export", help="export the registry in the import layout")
        super().add_arguments(exp)
        exp.add_argument("file", help="the CSV file to write (UTF-8, CRLF)")
        exp.add_argument(
            "--jis0208",
            action="store_true",
            help="degrade characters outside JIS X 0208 (縮退) and report each one",
        )

        search = sub.add_parser("search", help="search residents (audited)")
        super().add_arguments(search)
        search.add_argument("--query", default="", help="name, kana, alias or former surname")
        search.add_argument(
            "--birth", default="", help="date of birth (和暦 or 西暦, may be partial)"
        )
        search.add_argument("--limit", type=int, default=50)
        search.add_argument("--json", action="store_true", help="one JSON object per line")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "import":
            self._import(options)
        elif action == "export":
            self._export(options)
        else:
            self._search(options)

    # ------------------------------------------------------------ import

    def _import(self, options: dict[str, Any]) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"ファイル {path} がありません。")
        if options["skip_invalid"] and not options["rejects"]:
            raise CommandError("--skip-invalid には --rejects（除外した行の出力先）が必要です。")
        gaiji_map = None
        if options["gaiji_map"]:
            try:
                gaiji_map = load_gaiji_map(options["gaiji_map"])
            except FileNotFoundError as error:
                raise CommandError(f"外字マップ {options['gaiji_map']} がありません。") from error
            except GaijiMapError as error:
                raise CommandError(str(error)) from error
        import_options = ImportOptions(
            gaiji_map=gaiji_map,
            skip_invalid=options["skip_invalid"],
            update=options["update"],
            check_atena_digits=options["check_atena_digits"],
        )
        verbosity = options["verbosity"]
        bar = None
        progress = None
        if self.stdout.isatty() and verbosity >= 1:
            bar = progress = ProgressBar(self.stdout, path.stat().st_size)
        elif verbosity >= 2:

            def progress(done: int, written: int) -> None:
                self.stdout.write(f"{written}行を書き込みました（{done}バイト読み込み済み）")
                self.stdout.flush()

        rejects_file = None
        try:
            rejects = None
            if options["rejects"]:
                fd = os.open(options["rejects"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                rejects_file = os.fdopen(fd, "w", encoding="utf-8", newline="")
                rejects = RejectsWriter(rejects_file)
            with path.open("rb") as stream:
                result = registry_import(
                    stream=stream,
                    file_name=path.name,
                    options=import_options,
                    rejects=rejects,
                    progress=progress,
                    terminal=CLI_TERMINAL,
                )
        except ImportRejected as error:
            if bar is not None:
                bar.close()
            for problem in error.problems:
                self.stderr.write(str(problem))
            self._unmapped(error.result)
            raise CommandError(
                f"{len(error.problems)}件の誤り（{error.result.rejected_rows}行）があるため、"
                "何も書き込みませんでした。"
            ) from None
        finally:
            if rejects_file is not None:
                rejects_file.close()
        if bar is not None:
            bar.close()
        for problem in result.problems:
            self.stderr.write(str(problem))
        self._unmapped(result)
        if verbosity >= 1:
            self._summary(result, options)

    def _unmapped(self, result: ImportResult) -> None:
        if result.unmapped_gaiji:
            listing = "、".join(f"{code}（{n}箇所）" for code, n in result.unmapped_gaiji.items())
            self.stderr.write(f"外字マップにない外字: {listing}")

    def _summary(self, result: ImportResult, options: dict[str, Any]) -> None:
        lines = [
            f"読み込んだ行: {result.rows}",
            f"書き込んだ行: {result.written}（新規 {result.created}、更新 {result.updated}）",
        ]
        if options["update"]:
            lines.append(f"変更のなかった行: {result.unchanged}")
        lines += [
            f"除外した行: {result.rejected_rows}"
            + (f"（{options['rejects']} に出力）" if result.rejected_rows else ""),
            f"新しい世帯: {result.households_created}",
            f"外字の置換: {result.gaiji_replacements}",
            f"所要時間: {result.seconds:.1f}秒（{result.rows_per_second:,.0f}行/秒）",
            f"取込ID: {result.import_id}",
        ]
        style = self.style.WARNING if result.rejected_rows else self.style.SUCCESS
        self.stdout.write(style("取り込みが完了しました"))
        for line in lines:
            self.stdout.write(f"  {line}")

    # ------------------------------------------------------------ export

    def _export(self, options: dict[str, Any]) -> None:
        path = Path(options["file"])
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            summary = registry_export(
                stream=stream,
                file_name=path.name,
                jis0208=options["jis0208"],
                on_lossy=lambda lossy: self.stdout.write(str(lossy)),
                terminal=CLI_TERMINAL,
            )
        if options["verbosity"] >= 1:
            message = f"{summary.rows}人を {path} に書き出しました"
            if options["jis0208"]:
                message += f"（JIS X 0208 への縮退 {len(summary.lossy)}文字）"
            self.stdout.write(self.style.SUCCESS(message))
            if summary.my_numbers:
                self.stdout.write(
                    self.style.WARNING(
                        f"個人番号 {summary.my_numbers}件を平文で含みます。"
                        "取り扱いに注意してください。"
                    )
                )

    # ------------------------------------------------------------ search

    def _search(self, options: dict[str, Any]) -> None:
        terms = {"query": options["query"], "birth": options["birth"]}
        if not any(v.strip() for v in terms.values()):
            raise CommandError("--query か --birth を指定してください。")
        try:
            result = selectors.resident_search(
                query=options["query"], birth=options["birth"], limit=options["limit"]
            )
        except selectors.SearchError as error:
            raise CommandError(str(error)) from error
        selectors.search_audit(
            actor=None,
            terminal=CLI_TERMINAL,
            function=SEARCH_FUNCTION,
            terms=terms,
            hits=result.total,
        )
        for hit in result.hits:
            resident = hit.resident
            row = {
                "atena_number": resident.atena_number,
                "name": resident.name,
                "kana": resident.kana,
                "birth_date": resident.birth_date.text if resident.birth_date else "",
                "address": resident.address,
                "status": resident.status,
                "match": hit.match,
            }
            if options["json"]:
                self.stdout.write(json.dumps(row, ensure_ascii=False))
            else:
                status = Status(resident.status).label
                self.stdout.write(
                    "\t".join(
                        [
                            row["atena_number"],
                            row["name"],
                            row["kana"],
                            row["birth_date"],
                            row["address"],
                            str(status),
                            hit.match,
                        ]
                    )
                )
        if not options["json"] and options["verbosity"] >= 1:
            self.stderr.write(f"{result.total}件（{len(result.hits)}件を表示）")
