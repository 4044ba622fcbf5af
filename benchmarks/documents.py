"""Time to render a visit's PDF documents (書かない窓口: printed while the resident waits).

Run by hand::

    .venv/bin/python benchmarks/documents.py [--database sqlite|postgres] [--rounds 20]

Builds a municipality in a temporary data directory, records the 転入 of a 4-person
household through the intake service (two adults on 国保, an 8-year-old and a
3-year-old: 住民異動届, 国保 資格取得届, 児童手当 認定請求書 and the visit summary with its
QR code), then:

* **cold**: in a fresh process (Django set up, nothing rendered yet), the time of the
  first document and of the whole set that follows it;
* **warm**: ``--rounds`` renders of every document in this process (each render reads
  the visit from the database, writes its audit entry and lays out the PDF); wall time
  and this process's CPU time (the latter is what a busy machine does not inflate).

Prints JSON: per document p50/p95 in ms, the size in bytes and pages (and bytes per
page), the whole set's p50/p95 printed one by one and as one PDF (「すべてまとめて印刷」,
``documents_render_all``), and the cold figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from registry_import import LG_CODE, configure

HOUSEHOLD = {
    "event": {"type": "move_in", "date": "2026-04-03", "subjects": ["p1", "p2", "p3", "p4"]},
    "persons": [
        {"id": "p1", "name": "髙橋 一郎", "kana": "タカハシ イチロウ", "sex": "1",
         "birth_date": "1985-06-15", "relationship": "世帯主", "insurance": "kokuho"},
        {"id": "p2", "name": "𠮷田 花子", "kana": "ヨシダ ハナコ", "sex": "2",
         "birth_date": "1987-02-01", "relationship": "妻", "insurance": "kokuho"},
        {"id": "p3", "name": "髙橋 葛\U000e0100太", "kana": "タカハシ カツタ", "sex": "1",
         "birth_date": "2018-01-10", "relationship": "子", "insurance": "kokuho"},
        {"id": "p4", "name": "髙橋 﨑子", "kana": "タカハシ サキコ", "sex": "2",
         "birth_date": "2023-01-20", "relationship": "子", "insurance": "kokuho"},
    ],
    "answers": {"has_dog": True},
    "address": {"postal_code": "100-0001", "prefecture": "東京都", "city": "千代田区",
                "machiaza": "千代田", "banchi": "1-1", "katagaki": "千代田ハイツ101"},
    "previous_address": "大阪府堺市堺区南瓦町3-1",
}  # fmt: skip
STATUS_URL = f"https://machi.example.jp/{LG_CODE}/counter/status/"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return round(ordered[index], 1)


def page_count(pdf: bytes) -> int:
    """Pages of a PDF, as poppler's ``pdfinfo`` reads them (WeasyPrint packs the page
    objects into compressed object streams, where no byte pattern finds them)."""
    pdfinfo = shutil.which("pdfinfo") or "pdfinfo"  # poppler-utils, as for the tests
    out = subprocess.run(  # noqa: S603 — poppler's pdfinfo on our own PDF
        [pdfinfo, "-"], input=pdf, capture_output=True, check=True, timeout=60
    ).stdout.decode()
    return int(re.search(r"^Pages:\s+(\d+)", out, re.MULTILINE)[1])


def setup_visit() -> str:
    """The visit (public code) of the benchmark household; run after configure()."""
    from machi.accounts.services import staff_create
    from machi.counter.services.intake import life_event_confirm
    from machi.tenancy.context import tenant_context
    from machi.tenancy.models import Municipality

    clerk = staff_create(
        username="bench-clerk",
        display_name="試験 職員",
        password="benchmark-password-1234",  # noqa: S106 — a throwaway database
        municipality=Municipality.objects.get(lg_code=LG_CODE),
        memberships=[("shimin", "counter_clerk")],
    )
    with tenant_context(LG_CODE):
        visit = life_event_confirm(data=HOUSEHOLD, actor=clerk).visit
    return visit.public_code


def render_all(public_code: str) -> list[tuple[str, float, float, bytes]]:
    """Every document of the visit, each read and rendered as the document view does."""
    from machi.accounts.models import Staff
    from machi.counter.documents import document_render, visit_documents
    from machi.counter.models import Visit
    from machi.tenancy.context import tenant_context

    clerk = Staff.objects.get(username="bench-clerk")
    out = []
    with tenant_context(LG_CODE):
        names = [d.name for d in visit_documents(visit=Visit.objects.get(public_code=public_code))]
        for name in names:
            started, cpu = time.perf_counter(), time.process_time()
            visit = Visit.objects.get(public_code=public_code)
            pdf = document_render(visit=visit, name=name, actor=clerk, status_url=STATUS_URL)
            wall_ms = (time.perf_counter() - started) * 1000
            out.append((name, wall_ms, (time.process_time() - cpu) * 1000, pdf))
    return out


def render_combined(public_code: str) -> tuple[float, float, bytes]:
    """The whole set as one PDF (「すべてまとめて印刷」): wall ms, CPU ms, the PDF."""
    from machi.accounts.models import Staff
    from machi.counter.documents import documents_render_all
    from machi.counter.models import Visit
    from machi.tenancy.context import tenant_context

    clerk = Staff.objects.get(username="bench-clerk")
    with tenant_context(LG_CODE):
        started, cpu = time.perf_counter(), time.process_time()
        visit = Visit.objects.get(public_code=public_code)
        pdf = documents_render_all(visit=visit, actor=clerk, status_url=STATUS_URL)
        return (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000, pdf


def cold(data_dir: Path, public_code: str, env: dict[str, str]) -> dict[str, float]:
    """The first renders in a fresh process (after django.setup(), which is timed apart)."""
    script = f"""
import json, os, sys, time
started = time.perf_counter()
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
import django
django.setup()
setup_ms = (time.perf_counter() - started) * 1000
from documents import render_all
renders = render_all({public_code!r})
print(json.dumps({{"django_setup_ms": round(setup_ms, 1),
                  "first_document": renders[0][0],
                  "first_document_ms": round(renders[0][1], 1),
                  "whole_set_ms": round(sum(r[1] for r in renders), 1)}}))
"""
    result = subprocess.run(  # noqa: S603 — this interpreter, our own script
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True,
        timeout=300,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="write the PDFs of the last round here")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="machi-bench-docs-"))
    server = configure(args.database, data_dir)
    try:
        public_code = setup_visit()
        env = {k: v for k, v in os.environ.items()}
        cold_runs = [cold(data_dir, public_code, env) for _ in range(3)]
        times: dict[str, list[float]] = {}
        cpu_times: dict[str, list[float]] = {}
        sets: list[float] = []
        last: list[tuple[str, float, float, bytes]] = []
        render_all(public_code)  # warm-up: fonts loaded, templates compiled
        combined: list[float] = []
        combined_cpu: list[float] = []
        combined_pdf = b""
        for _ in range(args.rounds):
            last = render_all(public_code)
            sets.append(sum(ms for _, ms, _, _ in last))
            wall_ms, cpu_ms, combined_pdf = render_combined(public_code)
            combined.append(wall_ms)
            combined_cpu.append(cpu_ms)
            for name, ms, cpu_ms, _ in last:
                times.setdefault(name, []).append(ms)
                cpu_times.setdefault(name, []).append(cpu_ms)
        documents = {}
        for name, _, _, pdf in last:
            pages = page_count(pdf)
            documents[name] = {
                "p50_ms": percentile(times[name], 0.50),
                "p95_ms": percentile(times[name], 0.95),
                "mean_ms": round(statistics.fmean(times[name]), 1),
                "cpu_p50_ms": percentile(cpu_times[name], 0.50),
                "cpu_p95_ms": percentile(cpu_times[name], 0.95),
                "bytes": len(pdf),
                "pages": pages,
                "bytes_per_page": round(len(pdf) / max(pages, 1)),
            }
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                (args.keep / f"{name}.pdf").write_bytes(pdf)
        print(json.dumps({
            "database": args.database,
            "rounds": args.rounds,
            "documents": documents,
            "whole_set": {"p50_ms": percentile(sets, 0.50), "p95_ms": percentile(sets, 0.95)},
            "whole_set_one_pdf": {
                "p50_ms": percentile(combined, 0.50),
                "p95_ms": percentile(combined, 0.95),
                "cpu_p50_ms": percentile(combined_cpu, 0.50),
                "cpu_p95_ms": percentile(combined_cpu, 0.95),
                "bytes": len(combined_pdf),
                "pages": page_count(combined_pdf),
            },
            "cold": cold_runs,
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }, ensure_ascii=False, indent=2))  # fmt: skip
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
