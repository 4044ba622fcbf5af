"""A read-only DuckDB connection onto the municipality in force's own database.

Usage::

    from machi.analytics.duck import duck_cursor

    with duck_cursor() as cur:          # the municipality in force (tenant_context)
        rows = cur.execute("SELECT count(*) FROM counter_visit").fetchall()

    with duck_cursor("131016") as cur:  # or an explicit lg_code (platform code)
        ...

Tables are reached by their bare names (the attached database is the default
catalogue): ``counter_visit``, ``linkage_delivery``…

How it reads, and why nothing is copied:

* **SQLite**: the file is attached ``READ_ONLY`` through the ``sqlite_scanner``
  extension, loaded by path from the PyPI wheel ``duckdb-extension-sqlite-scanner``
  (DuckDB cannot download extensions here; the wheel is pinned to DuckDB's version).
* **PostgreSQL**: the database is attached ``READ_ONLY`` through the
  ``postgres_scanner`` extension from the wheel ``duckdb-extension-postgres-scanner``.
* DuckDB itself is an in-memory database with spilling to disk disabled
  (``temp_directory = ''``), external access switched off after the attach
  (no file, URL or other database can be reached from a query) and its
  configuration locked, so a query can neither write to the municipality's
  database nor copy its rows anywhere else. A write is refused by DuckDB with
  :class:`ReadOnlyError` (``duckdb.Error``).

One DuckDB instance is kept per municipality and process (attaching costs a few
milliseconds); each caller gets its own cursor, so threads never share one.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from django.db import connections

from machi.tenancy.context import current_lg_code
from machi.tenancy.databases import ensure_tenant_connection

ReadOnlyError = duckdb.Error

ATTACHED = "tenant"

_lock = threading.Lock()
# lg_code -> (database NAME it was attached from, the DuckDB connection)
_instances: dict[str, tuple[str, duckdb.DuckDBPyConnection]] = {}


class DuckError(RuntimeError):
    """The municipality's database cannot be opened for analysis; the message says why."""


def extension_path(name: str) -> Path:
    """The path of extension ``name`` (``sqlite_scanner``/``postgres_scanner``) in its wheel."""
    package = f"duckdb_extension_{name}"
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise DuckError(
            f"DuckDB 拡張 {name} がありません (PyPI の duckdb-extension-"
            f"{name.replace('_', '-')} {duckdb.__version__} を入れてください)。"
        )
    path = Path(spec.origin).parent / "extensions" / f"v{duckdb.__version__}"
    path = path / f"{name}.duckdb_extension"
    if not path.exists():
        raise DuckError(
            f"DuckDB 拡張 {path} がありません (拡張の版は DuckDB {duckdb.__version__} と"
            "同じにしてください)。"
        )
    return path


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _libpq_value(value: object) -> str:
    text = str(value)
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _open(settings_dict: dict) -> duckdb.DuckDBPyConnection:
    engine = settings_dict["ENGINE"]
    con = duckdb.connect(
        ":memory:",
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_unsigned_extensions": False,
            "threads": 2,
        },
    )
    try:
        con.execute("SET temp_directory = ''")
        if engine.endswith("sqlite3"):
            path = Path(settings_dict["NAME"])
            if not path.exists():
                raise DuckError(f"自治体のデータベース {path.name} がありません。")
            con.execute(f"LOAD {_quote(str(extension_path('sqlite_scanner')))}")
            con.execute(f"ATTACH {_quote(str(path))} AS {ATTACHED} (TYPE sqlite, READ_ONLY)")
        elif engine.endswith("postgresql"):
            parts = {
                "host": settings_dict.get("HOST"),
                "port": settings_dict.get("PORT"),
                "user": settings_dict.get("USER"),
                "password": settings_dict.get("PASSWORD"),
                "dbname": settings_dict["NAME"],
            }
            dsn = " ".join(f"{k}={_libpq_value(v)}" for k, v in parts.items() if v)
            con.execute(f"LOAD {_quote(str(extension_path('postgres_scanner')))}")
            con.execute(f"ATTACH {_quote(dsn)} AS {ATTACHED} (TYPE postgres, READ_ONLY)")
        else:
            raise DuckError(f"分析に対応していないデータベースです: {engine}")
        # GLOBAL: every cursor is a session of its own, which would otherwise take the
        # process's TZ (Django sets it to TIME_ZONE) and shift timestamptz columns.
        con.execute("SET GLOBAL TimeZone = 'UTC'")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except Exception:
        con.close()
        raise
    return con


def _default_schema(settings_dict: dict) -> str:
    return f"{ATTACHED}.public" if settings_dict["ENGINE"].endswith("postgresql") else ATTACHED


def _instance(lg_code: str) -> tuple[duckdb.DuckDBPyConnection, str]:
    alias = ensure_tenant_connection(lg_code)
    settings_dict = connections.settings[alias]
    name = str(settings_dict["NAME"])
    with _lock:
        cached = _instances.get(lg_code)
        if cached is not None and cached[0] == name:
            return cached[1], _default_schema(settings_dict)
        if cached is not None:
            cached[1].close()
        con = _open(settings_dict)
        _instances[lg_code] = (name, con)
        return con, _default_schema(settings_dict)


@contextmanager
def duck_cursor(lg_code: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only DuckDB cursor onto municipality ``lg_code`` (default: the one in force).

    Without a municipality in force and no ``lg_code`` it raises ``NoTenantError``
    (fail closed)."""
    lg_code = lg_code or current_lg_code()
    con, schema = _instance(lg_code)
    cursor = con.cursor()
    try:
        cursor.execute(f"USE {schema}")
        yield cursor
    finally:
        cursor.close()


def duck_close(lg_code: str | None = None) -> None:
    """Close the cached DuckDB instance of ``lg_code`` (all when None), e.g. after a
    municipality's database was replaced."""
    with _lock:
        codes = [lg_code] if lg_code else list(_instances)
        for code in codes:
            cached = _instances.pop(code, None)
            if cached is not None:
                cached[1].close()
