"""Latency of the registry's fuzzy name search in a large municipality.

Run by hand::

    .venv/bin/python benchmarks/registry_search.py --residents 1000000 [--database sqlite|postgres]

Builds a municipality of N synthetic residents (``machi.registry.synthetic`` through
the migration import, which ends with ANALYZE), then times ``--searches`` calls of
``machi.registry.selectors.resident_search`` (limit 50, as the search page) mixing
four kinds: a kanji variant of a stored name (髙橋 for 高橋, 𠮷田 for 吉田…), a kana
reading in hiragana, a given name alone, and a name with a date of birth. Prints JSON
with p50/p95/p99 in milliseconds, overall and per kind.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from registry_import import LG_CODE, configure, write_csv

VARIANTS = {"高": "髙", "崎": "﨑", "辺": "邊", "吉": "𠮷", "斎": "齋", "沢": "澤", "浜": "濱",
            "島": "嶋", "国": "國", "広": "廣"}  # fmt: skip
KINDS = ("kanji_variant", "kana", "given_name", "birth_and_name")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return round(ordered[index], 2)


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": percentile(values, 0.50),
        "p95_ms": percentile(values, 0.95),
        "p99_ms": percentile(values, 0.99),
        "max_ms": round(max(values), 2),
        "mean_ms": round(statistics.fmean(values), 2),
    }


def sample_queries(path: Path, count: int, seed: int) -> list[tuple[str, dict[str, str]]]:
    """Search terms drawn from the residents in the file."""
    import csv

    from machi.japanese import kanji_key
    from machi.registry.keys import split_name

    rng = random.Random(seed)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        pool = [r for r in reader if rng.random() < 0.02 and r["住民種別"] == "1"]
    queries: list[tuple[str, dict[str, str]]] = []
    while len(queries) < count:
        resident = rng.choice(pool)
        kind = KINDS[len(queries) % len(KINDS)]
        surname, given = split_name(resident["氏名"])
        if kind == "kanji_variant":
            name = "".join(VARIANTS.get(c, c) for c in kanji_key(resident["氏名"]))
            if name == kanji_key(resident["氏名"]):
                name = surname  # no variant to swap: the surname as stored
            terms = {"query": name}
        elif kind == "kana":
            kana = resident["氏名_フリガナ"]
            terms = {"query": "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in kana)}
        elif kind == "given_name":
            terms = {"query": given or surname}
        else:
            terms = {"query": resident["氏名"], "birth": resident["生年月日"]}
        queries.append((kind, terms))
    return queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--searches", type=int, default=1_000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="machi-bench-search-"))
    server = None
    try:
        server = configure(args.database, data_dir)
        path = data_dir / "residents.csv"
        write_csv(path, args.residents, args.seed)

        from django.db import connections

        from machi.japanese import DateParseError
        from machi.registry.migration import registry_import
        from machi.registry.selectors import SearchError, resident_search
        from machi.tenancy.context import tenant_context

        with tenant_context(LG_CODE) as alias:
            started = time.perf_counter()
            with path.open("rb") as stream:
                registry_import(stream=stream, file_name=path.name)
            build = time.perf_counter() - started
            connections[alias].close()
            queries = sample_queries(path, args.searches, args.seed)
            for _, terms in queries[:20]:  # warm the connection and the page cache
                resident_search(**terms)
            timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
            hits: dict[str, int] = dict.fromkeys(KINDS, 0)
            for kind, terms in queries:
                started = time.perf_counter()
                try:
                    result = resident_search(**terms)
                except (SearchError, DateParseError):
                    result = None  # a 不詳 birth date cannot be searched: still timed
                timings[kind].append((time.perf_counter() - started) * 1000)
                hits[kind] += bool(result and result.total)
            connections[alias].close()
        every = [t for values in timings.values() for t in values]
        print(
            json.dumps(
                {
                    "benchmark": "registry_search",
                    "database": args.database,
                    "residents": args.residents,
                    "searches": len(every),
                    **summary(every),
                    "target_p95_ms": 20,
                    "by_kind": {
                        kind: {**summary(values), "found_share": round(hits[kind] / len(values), 3)}
                        for kind, values in timings.items()
                    },
                    "build_seconds": round(build, 1),
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
