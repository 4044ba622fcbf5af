"""Bulk writing of validated import records: no per-row ORM.

SQLite: ``executemany`` on the driver's connection. PostgreSQL: ``COPY`` (psycopg 3).
Both run inside the caller's ``transaction.atomic`` on the tenant alias, so an
interrupted import leaves nothing behind.

The main thread validates and prepares rows (:meth:`BulkWriter.prepare`); a writer
thread owns the database connection while batches are written (the drivers release
the GIL while the database works, so validation and writing overlap). Call
:meth:`BulkWriter.drain` before using the connection from the main thread again.

For a large import into a small registry the secondary indexes of the registry
tables are dropped inside the transaction and rebuilt before it commits (sorting once
is much faster than inserting millions of entries one by one); a rollback or a kill
restores them with everything else.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Sequence
from typing import Any

from django.db import connections
from django.utils import timezone

from machi.japanese import JapaneseDate
from machi.registry.keys import resident_keys
from machi.registry.models import (
    FilingKind,
    Household,
    KanaStatus,
    Resident,
    ResidentHistory,
    ResidentKey,
)
from machi.registry.mynumber import my_number_sealer

RESIDENT_TABLE = Resident._meta.db_table
HOUSEHOLD_TABLE = Household._meta.db_table
KEY_TABLE = ResidentKey._meta.db_table
HISTORY_TABLE = ResidentHistory._meta.db_table
TABLES = (HOUSEHOLD_TABLE, RESIDENT_TABLE, KEY_TABLE, HISTORY_TABLE)

RESIDENT_COLUMNS = tuple(f.column for f in Resident._meta.concrete_fields)
HOUSEHOLD_COLUMNS = ("id", "household_number", "created_at")
KEY_COLUMNS = ("resident_id", "key", "raw")
HISTORY_COLUMNS = (
    "resident_id", "change", "changes", "effective_on", "filed_on", "filing_kind",
    "staff_id", "staff_username", "recorded_at",
)  # fmt: skip

_EXPECTED_RESIDENT_COLUMNS = (
    "id", "atena_number", "household_id", "resident_type", "status", "name", "kana",
    "kana_status", "former_surname", "former_surname_kana", "alias", "alias_kana",
    "name_alphabet", "sex", "birth_date", "birth_date_approx", "relationship", "postal_code",
    "prefecture", "city", "machiaza", "banchi", "katagaki", "became_resident_on", "settled_on",
    "previous_address", "destination_address", "nationality", "residence_status", "my_number",
    "resident_code", "kokuho", "kouki", "kaigo", "pension_category", "child_allowance", "gaiji",
    "updated_at",
)  # fmt: skip
if RESIDENT_COLUMNS != _EXPECTED_RESIDENT_COLUMNS:  # pragma: no cover
    raise RuntimeError("Resident's columns changed: update registry.migration.write")

#: Write from a second thread while the main thread validates. Off: the drivers release
#: the GIL only around each row's step, and the two threads then mostly wait for each
#: other (measured slower on SQLite and no faster on PostgreSQL).
THREADED = False

_UNCONFIRMED = KanaStatus.UNCONFIRMED.value

#: Rebuild indexes after the load when the registry holds fewer residents than this.
REBUILD_INDEXES_BELOW = 50_000

#: SQLite: indexes whose first column grows with the rows as the import appends them
#: (new ids, household ids in order of appearance, few distinct values) stay while it
#: writes: each entry lands on the last page, as cheap as a rebuild's, and the work is
#: done while the forked reader is still reading instead of after it. The others (the
#: search index, dates, postal codes, towns) are dropped and rebuilt by sorting.
KEEP_INDEXES_ON = frozenset({"resident_id", "household_id", "status", "resident_code"})


def _from_json(table: str, columns: Sequence[str], values: Sequence[str], joined: str = "") -> str:
    """INSERT of the rows of one JSON array of arrays (the last parameter, a blob of
    UTF-8 text): SQLite unpacks it in C, no row passes through Python. ``values`` are
    SQL expressions over ``r.value`` (the row's array) and ``joined``."""
    quoted = ", ".join(f'"{c}"' for c in columns)
    return (
        f'INSERT INTO "{table}" ({quoted}) SELECT {", ".join(values)} '  # noqa: S608
        f"FROM json_each(CAST(? AS TEXT)) AS r{joined}"
    )


def _item(i: int, of: str = "r") -> str:
    return f"json_extract({of}.value, '$[{i}]')"


_HISTORY_CONSTANTS = ("NULL", "NULL", "?", "NULL", "''", "?")

#: Narrow tables only: extracting the n-th item walks the array, so a wide row (a
#: resident's 38 columns) is faster through ``executemany``.
_JSON_INSERTS = {
    # r: [id, household_number]; parameters: created_at, data
    HOUSEHOLD_TABLE: _from_json(HOUSEHOLD_TABLE, HOUSEHOLD_COLUMNS, [_item(0), _item(1), "?"]),
    # r: [resident id, line, [[key, raw], ...]], k: [key, raw]; parameters: data
    KEY_TABLE: _from_json(
        KEY_TABLE,
        KEY_COLUMNS,
        [_item(0), _item(0, "k"), _item(1, "k")],
        joined=", json_each(r.value, '$[2]') AS k",
    ),
    # r: as for the keys; parameters: the changes up to the line number, filing_kind,
    # recorded_at, data
    HISTORY_TABLE: _from_json(
        HISTORY_TABLE,
        HISTORY_COLUMNS,
        [_item(0), "'migration'", f"? || {_item(1)} || '}}'", *_HISTORY_CONSTANTS],
    ),
}


class DateJson:
    """(JSON text as Django's JSONField stores it, approximate ISO date) of a
    JapaneseDate, cached by its text."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[str, str | None]] = {}

    def __call__(self, date: JapaneseDate | None) -> tuple[str | None, str | None]:
        if date is None:
            return None, None
        cached = self._cache.get(date.text)
        if cached is None:
            approx = date.approx.isoformat() if date.approx else None
            cached = (json.dumps(date.to_dict()), approx)
            if len(self._cache) < 500_000:
                self._cache[date.text] = cached
        return cached


class BulkWriter:
    """Appends households, residents, search keys and history rows for one import."""

    def __init__(
        self, alias: str, *, import_id: str, households: dict[str, int], existing: int
    ) -> None:
        self.alias = alias
        self.connection = connections[alias]
        self.connection.ensure_connection()
        self.vendor = self.connection.vendor
        self.import_id = import_id
        self.households = households  # household_number → id (the writer thread adds)
        self.households_created = 0
        now = timezone.now()
        self.now = (
            self.connection.ops.adapt_datetimefield_value(now)
            if self.vendor == "sqlite"
            else now.isoformat()
        )
        self.dates = DateJson()
        self.my_numbers = 0
        self._seal = my_number_sealer()  # the validator checked the numbers
        self._keys_cache: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
        self._common: dict[str, str] = {}
        self._common_keys: dict[str, str] = {}
        self._next_ids: dict[str, int] = {}
        self._dropped: list[str] = []
        self._rebuild = existing < REBUILD_INDEXES_BELOW
        self._queue: queue.Queue[list | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._started = False
        self.threaded = THREADED
        self._prefix = '{"import": "' + import_id + '", "line": '
        if self.vendor == "sqlite":
            with self.connection.cursor() as cursor:
                # A big page cache keeps the B-trees in memory during the import.
                cursor.execute("PRAGMA cache_size = -1048576")
                # Rebuilding the indexes sorts with a helper thread: SQLite's sorter uses
                # none with temp_store = MEMORY, and none either when everything fits in
                # one in-memory run (see finish).
                cursor.execute("PRAGMA temp_store = FILE")
                cursor.execute("PRAGMA threads = 2")

    # ------------------------------------------------------------ main thread

    def prepare(self, record: dict[str, Any]) -> tuple:
        """A new resident as (household_number, row without id/household_id, keys,
        history tail) — everything but the ids, which the writer thread assigns."""
        get = record.get
        dates = self.dates
        birth, birth_approx = dates(record["birth_date"])
        became, _ = dates(get("became_resident_on"))
        settled, _ = dates(get("settled_on"))
        my_number = get("my_number") or ""
        if my_number:
            my_number = self._seal(my_number)
            self.my_numbers += 1
        gaiji = record["gaiji"]
        name = record["name"]
        kana = get("kana", "")
        former = get("former_surname", "")
        former_kana = get("former_surname_kana", "")
        alias = get("alias", "")
        alphabet = get("name_alphabet", "")
        if former or alias:
            keys = self._shared_keys(
                resident_keys(
                    name=name, kana=kana, former_surname=former,
                    former_surname_kana=former_kana, alias=alias, name_alphabet=alphabet,
                )
            )  # fmt: skip
        else:
            cache_key = (name, kana, alphabet)
            keys = self._keys_cache.get(cache_key)
            if keys is None:
                keys = self._shared_keys(
                    resident_keys(name=name, kana=kana, name_alphabet=alphabet)
                )
                if len(self._keys_cache) < 300_000:
                    self._keys_cache[cache_key] = keys
        # Values many residents share are kept as one object each: a batch sent from the
        # forked reader then pickles (and unpickles) them once.
        common = self._common
        if len(common) > 200_000:
            common.clear()
        share = common.setdefault
        relationship = record["relationship"]
        postal = get("postal_code", "")
        prefecture = record["prefecture"]
        city = record["city"]
        machiaza = record["machiaza"]
        nationality = get("nationality", "")
        tail = (
            record["resident_type"], record["status"], name, kana,
            _UNCONFIRMED, former, former_kana, alias, "", alphabet,
            record["sex"], birth, birth_approx, share(relationship, relationship),
            share(postal, postal), share(prefecture, prefecture), share(city, city),
            share(machiaza, machiaza), get("banchi", ""), get("katagaki", ""), became, settled,
            "", "", share(nationality, nationality), "", my_number, "", False, False, False, "",
            False, json.dumps(gaiji) if gaiji else "[]", self.now,
        )  # fmt: skip
        return (record["atena_number"], record["household_number"], tail, keys, record["line"])

    def _shared_keys(self, keys: dict[str, str]) -> list[tuple[str, str]]:
        """(key, raw) pairs, each string shared with the residents that have it too
        (surnames, given names: see ``prepare``)."""
        common = self._common_keys
        if len(common) > 300_000:
            common.clear()
        return [
            (common.setdefault(key, key), common.setdefault(raw[:200], raw[:200]))
            for key, raw in keys.items()
        ]

    def submit(self, bundles: list[tuple]) -> None:
        """Write a batch of prepared residents (or hand it to the writer thread)."""
        if not self.threaded:
            if not self._started:
                self._started = True
                if self._rebuild:
                    self._drop_indexes()
            self._write(bundles)
            return
        if self._thread is None:
            self._start()
        self._raise()
        self._queue.put(bundles)

    def drain(self) -> None:
        """Wait until every submitted batch is written (re-raises the writer's error)."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        self._raise()

    def abort(self) -> None:
        """Stop the writer thread after an error in the main thread (errors dropped)."""
        if self._thread is not None:
            self._error = self._error or RuntimeError("import aborted")
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        self._error = None

    def finish(self) -> None:
        """Drain and rebuild any index dropped for the load (still in the transaction)."""
        self.drain()
        if self._dropped:
            with self.connection.cursor() as cursor:
                if self.vendor == "postgresql":
                    # Check the deferred foreign keys now (CREATE INDEX refuses to run on
                    # a table with pending trigger events), then defer them again.
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
                else:
                    # Runs of at most 64 MB, sorted by the helper thread while this one
                    # reads on, then merged: about 40 % less time for the search index.
                    cursor.execute("PRAGMA cache_size = -65536")
                for statement in self._dropped:
                    cursor.execute(statement)
            self._dropped = []

    def analyze(self) -> None:
        """Fresh planner statistics after a bulk load (after the commit)."""
        with self.connection.cursor() as cursor:
            if self.vendor == "sqlite":
                cursor.execute("PRAGMA analysis_limit = 1000")
                for table in TABLES:
                    cursor.execute(f'ANALYZE "{table}"')
            else:
                # VACUUM also sets the visibility map, without which PostgreSQL's
                # index-only scans (the search's counts) visit the heap for every key.
                # It cannot run inside a transaction block: ANALYZE alone there.
                command = "ANALYZE" if self.connection.in_atomic_block else "VACUUM (ANALYZE)"
                for table in TABLES:
                    cursor.execute(f'{command} "{table}"')

    def households_insert(self, numbers: list[str]) -> None:
        """New households (main thread; call after drain)."""
        missing = list(dict.fromkeys(n for n in numbers if n not in self.households))
        if missing:
            self._insert_households(missing)

    # ------------------------------------------------------------ writer thread

    def _start(self) -> None:
        if self._rebuild:
            self._drop_indexes()
        self._thread = threading.Thread(target=self._run, name="registry-import-writer")
        self._thread.start()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _run(self) -> None:
        while True:
            bundles = self._queue.get()
            if bundles is None:
                return
            if self._error is not None:
                continue  # drain the queue; the main thread raises
            try:
                self._write(bundles)
            except BaseException as error:
                self._error = error

    def _write(self, bundles: list[tuple]) -> None:
        households, residents, ids = self._rows(bundles)
        now = self.now
        if households:
            rows = [(id_, number, now) for id_, number in households]
            self._insert(HOUSEHOLD_TABLE, HOUSEHOLD_COLUMNS, rows)
        self._insert(RESIDENT_TABLE, RESIDENT_COLUMNS, residents)
        keys = []
        history = []
        migration = FilingKind.MIGRATION.value
        prefix = self._prefix
        for rid, bundle in zip(ids, bundles, strict=True):
            keys += [(rid, key, raw) for key, raw in bundle[3]]
            changes = f"{prefix}{bundle[4]}}}"
            history.append((rid, "migration", changes, None, None, migration, None, "", now))
        self._insert(KEY_TABLE, KEY_COLUMNS, keys)
        self._insert(HISTORY_TABLE, HISTORY_COLUMNS, history)

    def _rows(self, bundles: list[tuple], more_households: Sequence[str] = ()) -> tuple:
        """New households as (id, number) pairs (those of ``bundles`` and of
        ``more_households``), the resident rows of ``bundles`` and their ids."""
        households = self.households
        missing = list(
            dict.fromkeys(
                n for n in (*(b[1] for b in bundles), *more_households) if n not in households
            )
        )
        new_households = self._new_households(missing) if missing else []
        ids = self._reserve(RESIDENT_TABLE, [b[0] for b in bundles])
        rows = [
            (rid, atena, households[household], *tail)
            for rid, (atena, household, tail, _, _) in zip(ids, bundles, strict=True)
        ]
        return new_households, rows, ids

    # ------------------------------------------------------------ the forked reader

    def before_fork(self) -> None:
        """SQLite: fix where the ids of new residents and households start, so that a
        forked reader can assign them (:meth:`encode`) without the database."""
        if self.vendor == "sqlite":
            for table in (RESIDENT_TABLE, HOUSEHOLD_TABLE):
                self._reserve(table, [])

    def encode(self, bundles: list[tuple], more_households: Sequence[str]) -> tuple:
        """In the forked reader (SQLite): ``bundles`` ready for :meth:`submit_encoded` in
        the importing process — new households (also those of ``more_households``) as
        (id, number) pairs, resident rows with their ids for ``executemany``, and each
        resident's line and search keys. (The JSON for the keys is made by the
        importing process: the reader is the busier of the two, and the key lists,
        shared by residents of the same name, pickle as one object each.)"""
        households, residents, _ = self._rows(bundles, more_households)
        return households, residents, [b[4] for b in bundles], [b[3] for b in bundles]

    def submit_encoded(self, encoded: tuple) -> None:
        """Write what :meth:`encode` made, in the importing process (SQLite)."""
        if not self._started:
            self._started = True
            if self._rebuild:
                self._drop_indexes()
        households, residents, lines, keys = encoded
        raw = self.connection.connection
        if households:
            raw.execute(
                _JSON_INSERTS[HOUSEHOLD_TABLE],
                (self.now, json.dumps(households, ensure_ascii=False).encode()),
            )
            self.households.update((number, id_) for id_, number in households)
            self.households_created += len(households)
        if residents:
            self._executemany(RESIDENT_TABLE, RESIDENT_COLUMNS, residents)
            # [resident id, line, [[key, raw], …]] for each resident: SQLite itself
            # makes the search-key and history rows of it.
            extras = json.dumps(
                [[row[0], line, k] for row, line, k in zip(residents, lines, keys, strict=True)],
                ensure_ascii=False,
            ).encode()
            raw.execute(_JSON_INSERTS[KEY_TABLE], (extras,))
            raw.execute(
                _JSON_INSERTS[HISTORY_TABLE],
                (self._prefix, FilingKind.MIGRATION.value, self.now, extras),
            )

    # ------------------------------------------------------------ either thread

    def _new_households(self, numbers: list[str]) -> list[tuple[int, str]]:
        ids = self._reserve(HOUSEHOLD_TABLE, numbers)
        self.households.update(zip(numbers, ids, strict=True))
        self.households_created += len(numbers)
        return list(zip(ids, numbers, strict=True))

    def _insert_households(self, numbers: list[str]) -> None:
        rows = [(id_, number, self.now) for id_, number in self._new_households(numbers)]
        self._insert(HOUSEHOLD_TABLE, HOUSEHOLD_COLUMNS, rows)

    def _insert(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        if self.vendor == "postgresql":
            self._copy(table, columns, rows)
        else:
            self._executemany(table, columns, rows)

    def _reserve(self, table: str, numbers: list[str]) -> list[int]:
        """Ids for ``len(numbers)`` new rows of ``table``."""
        count = len(numbers)
        raw = self.connection.connection
        if self.vendor == "postgresql":
            with raw.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, count],
                )
                return [row[0] for row in cursor.fetchall()]
        # SQLite: this transaction holds the database's write lock (IMMEDIATE), so
        # nobody else can take ids until it ends.
        start = self._next_ids.get(table)
        if start is None:
            (top,) = raw.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"').fetchone()  # noqa: S608
            row = raw.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", [table]).fetchone()
            start = max(top, row[0] if row else 0) + 1
        self._next_ids[table] = start + count
        return list(range(start, start + count))

    def _executemany(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        quoted = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" * len(columns))
        self.connection.connection.executemany(
            f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})',  # noqa: S608
            rows,
        )

    def _copy(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        quoted = ", ".join(f'"{c}"' for c in columns)
        with (
            self.connection.connection.cursor() as cursor,
            cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def _drop_indexes(self) -> None:
        """Drop the secondary indexes of the registry tables, remembering how to
        rebuild them (unique constraints and primary keys stay)."""
        statements: list[str] = []
        with self.connection.cursor() as cursor:
            if self.vendor == "sqlite":
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                    "AND sql IS NOT NULL AND tbl_name IN (%s, %s, %s, %s)",
                    list(TABLES),
                )
                for name, sql in cursor.fetchall():
                    cursor.execute(f'PRAGMA index_info("{name}")')
                    if cursor.fetchone()[2] in KEEP_INDEXES_ON:
                        continue
                    cursor.execute(f'DROP INDEX "{name}"')
                    statements.append(sql)
            else:
                cursor.execute(
                    "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                    "WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s) "
                    "AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                    "WHERE c.conname = i.indexname AND c.connamespace = "
                    "(SELECT oid FROM pg_namespace WHERE nspname = current_schema()))",
                    [list(TABLES)],
                )
                for name, definition in cursor.fetchall():
                    cursor.execute(f'DROP INDEX "{name}"')
                    statements.append(definition)
        self._dropped = statements
