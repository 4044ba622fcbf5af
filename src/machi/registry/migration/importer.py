"""`machi registry import`: validate a migration CSV and write it in one transaction.

The file is read once. Rows are validated as they come and written in large batches;
as soon as one row is invalid (without ``skip_invalid``) writing stops, the rest of
the file is still validated so that every problem is reported, and the transaction is
rolled back: the municipality is left exactly as it was. Everything — households,
residents, search keys, history rows, the number sequences, one outbox event and one
audit entry — commits together or not at all (a kill -9 at any point included).
"""

from __future__ import annotations

import contextlib
import csv
import gc
import multiprocessing
import os
import sqlite3
import stat
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, TextIO

from django.db import connections as db_connections
from django.db import transaction
from django.utils import timezone

from machi.audit.services import Terminal, audit_append
from machi.japanese import GaijiMap, is_valid_atena_number
from machi.linkage.services import outbox_append
from machi.registry.migration.layout import REJECT_COLUMN
from machi.registry.migration.validate import (
    HeaderError,
    Problem,
    RowValidator,
    csv_rows,
    decoded_lines,
)
from machi.registry.migration.write import BulkWriter
from machi.registry.models import (
    FilingKind,
    Household,
    NumberSequence,
    Resident,
    ResidentHistory,
    ResidentKey,
)
from machi.registry.mynumber import my_number_open, my_number_seal
from machi.registry.numbers import SERIAL_DIGITS
from machi.registry.services import TRACKED_FIELDS, _diff, _snapshot, resident_key_rows
from machi.tenancy.context import current_tenant_alias

EVENT_TYPE = "jp.machi.registry.imported"
BATCH_ROWS = 20_000
UPDATE_BATCH_ROWS = 1_000
#: Read, validate and prepare a large file in a forked child process while this one
#: writes. "Large": more than PARALLEL_MIN_ROWS rows, estimated from the file size after
#: PARALLEL_PROBE_ROWS rows (or counted, when the size is unknown). Smaller files are
#: imported in this process alone.
PARALLEL = True
PARALLEL_MIN_ROWS = 50_000
PARALLEL_PROBE_ROWS = 2_000
#: SQLite: a file of at least this size imported into a (nearly) empty registry is
#: written with a rollback journal instead of the WAL, without foreign-key checks (the
#: importer assigns every id itself): see :func:`_sqlite_bulk_mode`.
BULK_MODE_MIN_BYTES = 10_000_000
_NAME_FIELDS = frozenset(
    {"name", "kana", "former_surname", "former_surname_kana", "alias", "name_alphabet"}
)


@dataclass(frozen=True)
class ImportOptions:
    gaiji_map: GaijiMap | None = None
    skip_invalid: bool = False
    update: bool = False
    check_atena_digits: bool = False


@dataclass
class ImportResult:
    import_id: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected_rows: int = 0
    households_created: int = 0
    gaiji_replacements: int = 0
    my_numbers: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)
    unmapped_gaiji: dict[str, int] = field(default_factory=dict)

    @property
    def written(self) -> int:
        return self.created + self.updated

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected_rows,
            "households_created": self.households_created,
            "gaiji_replacements": self.gaiji_replacements,
        }


class ImportRejected(Exception):
    """The file was refused as a whole; nothing was written. ``problems`` says why."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__(f"{len(result.problems)}件の誤りがあるため取り込みませんでした")
        self.result = result
        self.problems = result.problems


class RejectsWriter:
    """The rejects file: the rejected rows as they were, plus a column of reasons."""

    def __init__(self, stream: TextIO) -> None:
        self._writer = csv.writer(stream, lineterminator="\r\n")
        self._header_written = False

    def header(self, header: list[str]) -> None:
        self._writer.writerow([*(h for h in header if h.strip() != REJECT_COLUMN), REJECT_COLUMN])

    def row(self, row: list[str], problems: list[Problem], reject_index: int | None) -> None:
        if reject_index is not None and reject_index < len(row):
            row = row[:reject_index] + row[reject_index + 1 :]
        self._writer.writerow([*row, " / ".join(str(p) for p in problems)])


Progress = Callable[[int, int], None]  # (bytes read, rows written)


class _Scan:
    """Validation and preparation of the rows, in file order: pure Python, no database
    (it runs in the importing process, or in the forked reader of a large file).

    ``feed`` takes one row; what it produced since the last ``take`` (bundles of new
    residents, records to update, problems, rejected rows) is collected by ``take``.
    """

    def __init__(
        self,
        validator: RowValidator,
        writer: BulkWriter,
        options: ImportOptions,
        existing: dict[str, int],
        bad_lines: set[int],
    ) -> None:
        self.validator = validator
        self.prepare = writer.prepare
        self.writer = writer
        self.options = options
        self.existing = existing
        self.bad_lines = bad_lines
        self.seen: dict[str, int] = {}
        self.rows = 0
        self.rejected = 0
        self.failed = False
        self.bundles: list[tuple] = []
        self.updates: list[dict[str, Any]] = []
        self.problems: list[Problem] = []
        self.rejects: list[tuple[list[str], list[Problem]]] = []

    def feed(self, start: int, end: int, row: list[str]) -> None:
        self.rows += 1
        record, problems = self.validator.validate(start, row)
        bad_lines = self.bad_lines
        if bad_lines and any(n in bad_lines for n in range(start, end + 1)):
            problems.append(Problem(start, None, "UTF-8 として読めない文字があります"))
            record = None
        if record is not None:
            atena = record["atena_number"]
            if (first_line := self.seen.get(atena)) is not None:
                problems.append(
                    Problem(start, "宛名番号", f"宛名番号が{first_line}行目と重複しています")
                )
            elif atena in self.existing and not self.options.update:
                problems.append(
                    Problem(
                        start,
                        "宛名番号",
                        "この宛名番号の住民は既に登録されています（更新するには --update）",
                    )
                )
            else:
                self.seen[atena] = start
        if problems:
            self.problems += problems
            self.rejected += 1
            self.rejects.append((row, problems))
            if not self.options.skip_invalid:
                self.failed = True
                self.bundles.clear()
                self.updates.clear()
            return
        if self.failed:
            return  # keep validating, never write
        if (resident_id := self.existing.get(record["atena_number"])) is not None:
            record["id"] = resident_id
            self.updates.append(record)
        else:
            self.bundles.append(self.prepare(record))

    def full(self) -> bool:
        return (
            len(self.bundles) >= BATCH_ROWS
            or len(self.updates) >= UPDATE_BATCH_ROWS
            or len(self.rejects) >= BATCH_ROWS
        )

    def take(self) -> tuple[list[tuple], list[dict[str, Any]], list[Problem], list[tuple]]:
        taken = (self.bundles, self.updates, self.problems, self.rejects)
        self.bundles, self.updates, self.problems, self.rejects = [], [], [], []
        return taken

    def totals(self) -> dict[str, Any]:
        """What the importing process needs from a scan that ran elsewhere."""
        return {
            "rows": self.rows,
            "rejected": self.rejected,
            "failed": self.failed,
            "unmapped": dict(self.validator.unmapped),
            "replacements": self.validator.replacements,
            "my_numbers": self.writer.my_numbers,
            "atena_serial": _sequence_serial(self.seen),
        }


def _stream_size(stream: BinaryIO) -> int | None:
    try:
        status = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):
        getbuffer = getattr(stream, "getbuffer", None)
        return getbuffer().nbytes if getbuffer is not None else None
    return status.st_size if stat.S_ISREG(status.st_mode) else None


def registry_import(
    *,
    stream: BinaryIO,
    file_name: str,
    options: ImportOptions = ImportOptions(),
    rejects: RejectsWriter | None = None,
    progress: Progress | None = None,
    actor: Any = None,
    terminal: Terminal | None = None,
    function: str = "machi registry import",
) -> ImportResult:
    """Import the migration CSV read from ``stream`` into the municipality in force.

    Raises :class:`ImportRejected` (nothing written) when a row is invalid and
    ``options.skip_invalid`` is off; with it on, invalid rows go to ``rejects``.

    A large file (more than :data:`PARALLEL_MIN_ROWS` rows) is read, validated and
    prepared by a forked child process while this one writes: the two overlap on two
    cores. The child holds no database connection; it only sends prepared batches,
    problems and totals back, in file order.
    """
    started = time.monotonic()
    alias = current_tenant_alias()
    import_id = uuid.uuid4().hex
    result = ImportResult(import_id=import_id)
    bad_lines: set[int] = set()
    read_bytes = [0]
    size = _stream_size(stream)
    rows = csv_rows(decoded_lines(stream, bad_lines, read_bytes))
    first = next(rows, None)
    if first is None:
        result.problems.append(Problem(1, None, "見出し行がありません（空のファイルです）"))
        raise ImportRejected(result)
    _, _, header = first
    try:
        validator = RowValidator(
            header, gaiji_map=options.gaiji_map, check_atena_digits=options.check_atena_digits
        )
    except HeaderError as error:
        result.problems.extend(error.problems)
        raise ImportRejected(result) from None
    reject_index = next((i for i, h in enumerate(header) if h.strip() == REJECT_COLUMN), None)
    if rejects is not None:
        rejects.header(header)

    bulk = _bulk_mode_wanted(alias, size)
    with _sqlite_bulk_mode(alias, bulk), _no_gc():
        writer = _import(
            alias, result, rows, validator, reject_index, bad_lines, read_bytes, size,
            started=started, options=options, rejects=rejects, progress=progress,
            actor=actor, terminal=terminal, function=function, file_name=file_name,
        )  # fmt: skip
    if result.created > 1000:
        writer.analyze()
    result.seconds = time.monotonic() - started
    return result


def _import(
    alias: str,
    result: ImportResult,
    rows: Iterator,
    validator: RowValidator,
    reject_index: int | None,
    bad_lines: set[int],
    read_bytes: list[int],
    size: int | None,
    *,
    started: float,
    options: ImportOptions,
    rejects: RejectsWriter | None,
    progress: Progress | None,
    actor: Any,
    terminal: Terminal | None,
    function: str,
    file_name: str,
) -> BulkWriter:
    """The transaction of :func:`registry_import` (raises ImportRejected or returns the
    writer, for its ``analyze`` after the commit)."""
    import_id = result.import_id
    with transaction.atomic(using=alias):
        existing: dict[str, int] = dict(
            Resident.objects.using(alias).values_list("atena_number", "id")
        )
        households: dict[str, int] = dict(
            Household.objects.using(alias).values_list("household_number", "id")
        )
        writer = BulkWriter(
            alias, import_id=import_id, households=households, existing=len(existing)
        )
        scan = _Scan(validator, writer, options, existing, bad_lines)
        present = validator.present
        reader: _Reader | None = None

        def write(
            bundles: list[tuple],
            updates: list[dict[str, Any]],
            problems: list[Problem],
            rejected: list[tuple],
        ) -> None:
            result.problems += problems
            if rejects is not None:
                for row, row_problems in rejected:
                    rejects.row(row, row_problems, reject_index)
            if isinstance(bundles, _Encoded):
                writer.submit_encoded(bundles.rows)
                result.created += bundles.count
            elif bundles:
                writer.submit(bundles)
                result.created += len(bundles)
            if updates:
                writer.drain()
                _apply_updates(updates, writer, result, present)

        try:
            for start, end, row in rows:
                scan.feed(start, end, row)
                if scan.full():
                    write(*scan.take())
                    if progress is not None:
                        progress(read_bytes[0], result.written)
                if PARALLEL and scan.rows in (PARALLEL_PROBE_ROWS, PARALLEL_MIN_ROWS):
                    estimate = scan.rows * size / read_bytes[0] if size else scan.rows
                    if estimate >= PARALLEL_MIN_ROWS and _can_fork():
                        write(*scan.take())
                        writer.before_fork()
                        reader = _Reader(scan, rows, read_bytes)
                        break
            if reader is not None:
                for bundles, updates, problems, rejected, done in reader:
                    write(bundles, updates, problems, rejected)
                    if progress is not None:
                        progress(done, result.written)
                totals = reader.totals
            else:
                write(*scan.take())
                totals = scan.totals()
        except BaseException:
            if reader is not None:
                reader.stop()
            writer.abort()
            raise
        result.rows = totals["rows"]
        result.rejected_rows = totals["rejected"]
        result.unmapped_gaiji = totals["unmapped"]
        result.gaiji_replacements = totals["replacements"]
        writer.my_numbers = totals["my_numbers"]
        if totals["failed"]:
            writer.drain()
            result.seconds = time.monotonic() - started
            raise ImportRejected(result)
        writer.finish()
        if progress is not None:
            progress(read_bytes[0] if reader is None else reader.read_bytes, result.written)
        result.my_numbers += writer.my_numbers
        result.households_created = writer.households_created
        _advance_sequence("atena", totals["atena_serial"], alias)
        _advance_sequence("household", _sequence_serial(households), alias)
        if result.written:
            outbox_append(type=EVENT_TYPE, subject=import_id, data=result.counts())
        audit_append(
            action="registry.imported",
            actor=actor,
            object_type="registry_import",
            object_id=import_id,
            function=function,
            terminal=terminal,
            my_number_changed=result.my_numbers > 0,
            detail={
                **result.counts(),
                "file": file_name,
                "skip_invalid": options.skip_invalid,
                "update": options.update,
            },
        )
    return writer


def _bulk_mode_wanted(alias: str, size: int | None) -> bool:
    connection = db_connections[alias]
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return False
    if size is None or size < BULK_MODE_MIN_BYTES:
        return False
    from machi.registry.migration.write import REBUILD_INDEXES_BELOW

    small = Resident.objects.using(alias).values("id")[:REBUILD_INDEXES_BELOW].count()
    return small < REBUILD_INDEXES_BELOW


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """No cyclic garbage collection while importing: the import makes millions of
    short-lived tuples (no cycles, freed by reference counting) and the collector would
    keep scanning them and every cache; measured 20 % of the reader's time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def _sqlite_bulk_mode(alias: str, wanted: bool) -> Iterator[None]:
    """SQLite, a large file into a (nearly) empty registry: the transaction uses a
    rollback journal instead of the WAL and no foreign-key checks.

    In WAL mode every page of the new data is written twice (to the WAL, then to the
    database by the checkpoint at commit). With a rollback journal only pages that
    existed before the import are copied to the journal (almost none: the registry was
    empty) and the new pages go straight to the database. The transaction is still all
    or nothing: after a kill -9 the next connection finds the "hot" journal and rolls
    the database back before anyone reads it. The price: other connections cannot read
    the municipality's database while the import writes (they wait, then fail), which
    is acceptable for the initial migration. Foreign keys: every id is assigned by the
    importer, so the per-row checks only cost time. Both settings are restored after
    the transaction; if the journal mode cannot be changed (another connection has the
    database open), the import runs as usual.
    """
    if not wanted:
        yield
        return
    connection = db_connections[alias]
    connection.ensure_connection()
    raw = connection.connection
    try:
        (mode,) = raw.execute("PRAGMA journal_mode = DELETE").fetchone()
    except sqlite3.Error:
        mode = None
    if mode != "delete":
        yield
        return
    raw.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        with contextlib.suppress(sqlite3.Error):
            raw.execute("PRAGMA foreign_keys = ON")
            raw.execute("PRAGMA journal_mode = WAL")


@dataclass
class _Encoded:
    """A batch of new residents as the forked reader sends it on SQLite (see
    :meth:`BulkWriter.encode`)."""

    rows: tuple
    count: int


# ---------------------------------------------------------------- the forked reader


def _can_fork() -> bool:
    # Only from a single-threaded process (the CLI): a fork copies no other thread, and
    # a lock another thread held at that moment would stay locked in the child.
    return threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


class _Reader:
    """A forked child that goes on with the scan (reading, validating, preparing the rest
    of the file) and sends each batch through a pipe; iterate for the batches, in order.

    The child starts from a copy of this process (the CSV reader's position, the
    validator's caches, the numbers already seen) and never touches the database: it
    exits with ``os._exit`` after its last message. It is at most one batch ahead (a
    pipe send blocks until the importing process receives), so memory stays bounded.
    If the importing process dies (kill -9) the child's next send fails and it exits.
    """

    def __init__(self, scan: _Scan, rows: Iterator, read_bytes: list[int]) -> None:
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        self._receive = receive
        self.read_bytes = read_bytes[0]
        self.totals: dict[str, Any] = {}
        self._process = context.Process(
            target=_reader_main,
            args=(scan, rows, read_bytes, send, receive),
            name="registry-import-reader",
            daemon=True,
        )
        self._process.start()
        send.close()

    def __iter__(self) -> Iterator[tuple]:
        while True:
            try:
                kind, payload = self._receive.recv()
            except EOFError:
                self.stop()
                raise RuntimeError("取り込みの読み取りプロセスが異常終了しました") from None
            if kind == "batch":
                *batch, self.read_bytes = payload
                yield (*batch, self.read_bytes)
            elif kind == "end":
                self.totals = payload
                self._process.join()
                self._receive.close()
                return
            else:
                self.stop()
                raise RuntimeError(f"取り込みの読み取りプロセスで誤りがありました:\n{payload}")

    def stop(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._receive.close()


def _reader_main(
    scan: _Scan, rows: Iterator, read_bytes: list[int], send: Any, receive: Any
) -> None:
    # Keep nothing of the importing process's that would outlive it: with the pipe's
    # reading end closed here, a send fails as soon as the importing process is gone;
    # with the database sockets closed here, a killed import's server session ends (and
    # rolls back, releasing its locks) at once instead of waiting for this process.
    receive.close()
    gc.disable()  # see _no_gc (a fork keeps the setting; made sure here)
    for connection in db_connections.all(initialized_only=True):
        raw = connection.connection
        if raw is not None and connection.vendor == "postgresql":
            with contextlib.suppress(OSError):
                os.close(raw.fileno())
    try:
        for start, end, row in rows:
            scan.feed(start, end, row)
            if scan.full():
                send.send(("batch", (*_package(scan), read_bytes[0])))
        send.send(("batch", (*_package(scan), read_bytes[0])))
        send.send(("end", scan.totals()))
    except BrokenPipeError:
        pass  # the importing process is gone
    except BaseException:
        with contextlib.suppress(OSError):  # reported to the importing process
            send.send(("error", traceback.format_exc()))
    finally:
        send.close()


def _package(scan: _Scan) -> tuple:
    """What the reader sends of a batch: on SQLite the new residents as rows ready for
    the database (ids included, JSON), else as prepared by ``BulkWriter.prepare``."""
    bundles, updates, problems, rejects = scan.take()
    writer = scan.writer
    if writer.vendor == "sqlite" and (bundles or updates):
        rows = writer.encode(bundles, [u["household_number"] for u in updates])
        bundles = _Encoded(rows, len(bundles))
    return bundles, updates, problems, rejects


# ---------------------------------------------------------------- number sequences


def _sequence_serial(numbers: Iterable[str]) -> int | None:
    """The serial of the highest valid number of the issued form (7-digit serial +
    check digit) among ``numbers``, if any."""
    width = SERIAL_DIGITS + 1
    candidates = [n for n in numbers if len(n) == width and n.isdigit()]
    if not candidates:
        return None
    top = max(candidates)
    if not is_valid_atena_number(top):
        top = next((n for n in sorted(candidates, reverse=True) if is_valid_atena_number(n)), "")
        if not top:
            return None
    return int(top[:-1])


def _advance_sequence(kind: str, serial: int | None, alias: str) -> None:
    """Move the issuing sequence past imported numbers of the issued form, so new
    numbers never have to skip over them one by one."""
    if serial is None:
        return
    sequence, _ = NumberSequence.objects.using(alias).select_for_update().get_or_create(kind=kind)
    if sequence.last < serial:
        sequence.last = serial
        sequence.save(update_fields=["last"])


# ---------------------------------------------------------------- --update


def _apply_updates(
    records: list[dict[str, Any]],
    writer: BulkWriter,
    result: ImportResult,
    present: frozenset[str],
) -> None:
    """Existing residents: apply the file's columns, one history row per changed record."""
    alias = writer.alias
    residents = Resident.objects.using(alias).in_bulk([r["id"] for r in records])
    writer.households_insert([r["household_number"] for r in records])
    households = writer.households
    changed: list[Resident] = []
    history: list[ResidentHistory] = []
    rekey: list[Resident] = []
    fields_touched: set[str] = set()
    for record in records:
        resident = residents[record["id"]]
        before = _snapshot(resident)
        for name in present:
            if name == "household":
                resident.household_id = households[record["household_number"]]
            elif name == "my_number":
                new = record["my_number"]
                if new != (my_number_open(resident.my_number) if resident.my_number else ""):
                    resident.my_number = my_number_seal(new)
                    result.my_numbers += bool(new)
            elif name in TRACKED_FIELDS:
                setattr(resident, name, record[name])
        if "birth_date" in present:
            resident.birth_date_approx = resident.birth_date.approx
        after = _snapshot(resident)
        changes = _diff(before, after)
        if record["gaiji"]:
            resident.gaiji = record["gaiji"]
            changes.setdefault("gaiji", "replaced")
        if not changes:
            result.unchanged += 1
            continue
        fields_touched.update(k for k in changes if k != "household_id")
        if "household_id" in changes:
            fields_touched.add("household")
        changed.append(resident)
        history.append(
            ResidentHistory(
                resident=resident,
                change="migration",
                changes={"import": writer.import_id, "line": record["line"], **changes},
                filing_kind=FilingKind.MIGRATION,
            )
        )
        if _NAME_FIELDS.intersection(changes):
            rekey.append(resident)
    if changed:
        update_fields = sorted(fields_touched | {"updated_at"})
        if "birth_date" in fields_touched:
            update_fields.append("birth_date_approx")
        now = timezone.now()
        for resident in changed:
            resident.updated_at = now
        Resident.objects.using(alias).bulk_update(changed, update_fields, batch_size=500)
        ResidentHistory.objects.using(alias).bulk_create(history, batch_size=1000)
    if rekey:
        ResidentKey.objects.using(alias).filter(resident__in=rekey).delete()
        keys = [row for resident in rekey for row in resident_key_rows(resident)]
        ResidentKey.objects.using(alias).bulk_create(keys, batch_size=2000)
    result.updated += len(changed)
