"""Throughput of a full validated migration import (`machi registry import`).

Run by hand::

    .venv/bin/python benchmarks/registry_import.py --rows 1000000 [--database sqlite|postgres]

A throwaway data directory (and, for ``postgres``, a throwaway PostgreSQL server from
``machi.testing.postgres``) is created and removed. Synthetic rows
(``machi.registry.synthetic.generate_rows``) are written to a CSV first (not timed);
then the file is imported into an empty municipality exactly as the command does it:
parse, validate every rule, map gaiji, seal My Numbers, write households, residents,
search keys and history rows (executemany on SQLite, COPY on PostgreSQL), one outbox
event, one audit entry, commit, ANALYZE. Prints JSON only: besides rows/s, the CPU
seconds of the importing process and of its forked reader, and the load average before
and after (the machine may be shared: the figures mean little without it).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

LG_CODE = "131016"


def configure(database: str, data_dir: Path):
    """Environment first, then django.setup(); returns the PostgreSQL server or None."""
    os.environ["MACHI_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("MACHI_SECRET_KEY", "benchmark-only-secret-key-" + "b" * 40)
    os.environ["MACHI_DEBUG"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "machi.settings"
    for name in ("MACHI_DATABASE_URL", "MACHI_TENANT_DATABASE_URL_TEMPLATE"):
        os.environ.pop(name, None)
    server = None
    if database == "postgres":
        from machi.testing.postgres import start_server

        server = start_server()
        os.environ["MACHI_DATABASE_URL"] = server.url("machi_control")
        os.environ["MACHI_TENANT_DATABASE_URL_TEMPLATE"] = server.url("machi_{lg_code}")
        import psycopg

        with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
            conn.execute('CREATE DATABASE "machi_control"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from machi.tenancy.services import municipality_create

    municipality_create(lg_code=LG_CODE, name="千代田区")
    return server


def write_csv(path: Path, rows: int, seed: int) -> dict[str, str]:
    from machi.registry.synthetic import COLUMNS, generate_rows

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for values in generate_rows(count=rows, lg_code=LG_CODE, seed=seed):
            writer.writerow([values[c] for c in COLUMNS])


def _children_cpu() -> float:
    """CPU seconds of the finished child processes (the forked reader)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="machi-bench-import-"))
    server = None
    try:
        server = configure(args.database, data_dir)
        path = data_dir / "import.csv"
        started = time.perf_counter()
        write_csv(path, args.rows, args.seed)
        generated = time.perf_counter() - started

        from django.db import connections

        from machi.registry.migration import registry_import
        from machi.tenancy.context import tenant_context

        load_before = os.getloadavg()
        with tenant_context(LG_CODE) as alias, path.open("rb") as stream:
            started = time.perf_counter()
            cpu = time.process_time()
            children = _children_cpu()
            result = registry_import(stream=stream, file_name=path.name)
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu
            children = _children_cpu() - children
            connections[alias].close()
        load_after = os.getloadavg()
        print(
            json.dumps(
                {
                    "benchmark": "registry_import",
                    "database": args.database,
                    "rows": result.rows,
                    "created": result.created,
                    "households": result.households_created,
                    "my_numbers": result.my_numbers,
                    "file_mb": round(path.stat().st_size / 1e6, 1),
                    "seconds": round(seconds, 2),
                    "rows_per_second": round(result.rows / seconds),
                    "process_cpu_seconds": round(cpu, 2),
                    "reader_cpu_seconds": round(children, 2),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in load_after],
                    "target_rows_per_second": 20_000,
                    "csv_generation_seconds": round(generated, 2),
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                },
                ensure_ascii=False,
            )
        )
    finally:
        if server is not None:
            from django.db import connections

            connections.close_all()
            server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
