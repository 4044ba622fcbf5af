"""地域・年齢別人口 from a registry of N residents (`machi opendata publish-standard
--dataset population`, the build without the catalogue write).

Run by hand::

    .venv/bin/python benchmarks/opendata_standard.py --rows 1000000 [--database sqlite|postgres]

Sets up its own data: a throwaway data directory (and PostgreSQL server for
``postgres``), synthetic residents imported through the migration import as
benchmarks/registry_import.py does it (not timed). Then times, several times, the whole
build: the grouped count in the database, the history rewind, disclosure control of both
sexes' tables and the households, the CSV and its schema validation. Prints JSON only.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from registry_import import LG_CODE, configure, write_csv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="machi-bench-standard-"))
    server = None
    try:
        server = configure(args.database, data_dir)
        path = data_dir / "import.csv"
        started = time.perf_counter()
        write_csv(path, args.rows, 0)
        from machi.registry.migration import registry_import
        from machi.tenancy.context import tenant_context

        with tenant_context(LG_CODE), path.open("rb") as stream:
            registry_import(stream=stream, file_name=path.name)
        setup = time.perf_counter() - started

        from machi.opendata.standard.population import population_table
        from machi.opendata.standard.schema import schema_validate

        day = datetime.date.today()
        timings, table = [], None
        load_before = os.getloadavg()
        with tenant_context(LG_CODE):
            for _ in range(args.repeat):
                started = time.perf_counter()
                table = population_table(
                    lg_code=LG_CODE, prefecture="東京都", city="千代田区", day=day
                )
                problems = schema_validate(dataset="population", content=table.content)
                timings.append(time.perf_counter() - started)
                assert not problems, problems[:3]
        print(
            json.dumps(
                {
                    "benchmark": "opendata_standard_population",
                    "database": args.database,
                    "residents": args.rows,
                    "areas": len(table.rows) - 1,
                    "suppressed_figures": table.suppressed,
                    "seconds_each": [round(t, 2) for t in timings],
                    "seconds_median": round(statistics.median(timings), 2),
                    "target_seconds": 5,
                    "setup_seconds": round(setup, 1),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in os.getloadavg()],
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
