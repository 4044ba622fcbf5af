"""Pull-feed read throughput over HTTP: GET /api/v1/<lg_code>/events (target ≥ 5,000 events/s).

Run by hand::

    .venv/bin/python benchmarks/linkage_pull.py [--events 100000] [--limit 1000]
        [--database sqlite|postgres] [--readers 1] [--workers 2] [--threads 4]

Sets up a throwaway data directory (and, with ``--database postgres``, a throwaway
PostgreSQL server), migrates, creates one municipality, appends ``--events`` outbox
events (half resident moves, half task events, registry-shaped data), registers an API
client with ``events:read`` and starts gunicorn (production settings). Then each of
``--readers`` threads reads the whole feed from the start, ``limit`` events a call,
following ``next_after`` until ``has_more`` is false, parsing every response as a
consumer would; a second pass reads only ``types=jp.machi.resident.*``. Also timed:
the selector alone (no HTTP). Prints JSON with events/s, the calls made, the load
average and the CPU seconds the server and this client spent.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from registry_import import LG_CODE, configure  # benchmarks/ is on sys.path when run

BIN = Path(sys.executable).parent
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (the gunicorn workers)."""
    total = 0.0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
    return total


def seed_events(count: int) -> None:
    from django.db import transaction

    from machi.linkage.services import NewEvent, outbox_append_many
    from machi.tenancy.context import tenant_context

    types = [
        "jp.machi.resident.moved_in",
        "jp.machi.task.created",
        "jp.machi.resident.moved_within",
        "jp.machi.task.completed",
    ]
    with tenant_context(LG_CODE) as alias:
        for start in range(0, count, 5000):
            with transaction.atomic(using=alias):
                outbox_append_many(
                    events=[
                        NewEvent(
                            type=types[n % 4],
                            subject=f"{n:08d}",
                            data={
                                "atena_number": f"{n:08d}",
                                "household_number": f"{n // 3:08d}",
                                "change": "move_in",
                                "effective_date": "2026-04-03",
                                "effective_date_approx": "2026-04-03",
                                "visit": str(uuid.UUID(int=n)),
                            },
                        )
                        for n in range(start, min(start + 5000, count))
                    ]
                )


def read_feed(port: int, token: str, limit: int, types: str = "") -> tuple[int, int]:
    """Read the whole feed from the start; returns (events, calls)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "X-Forwarded-Proto": "https"}
    after, events, calls = 0, 0, 0
    suffix = f"&types={types}" if types else ""
    while True:
        conn.request("GET", f"/api/v1/{LG_CODE}/events?after={after}&limit={limit}{suffix}",
                     headers=headers)  # fmt: skip
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"feed refused: {response.status} {body[:300]!r}")
        page = json.loads(body)
        calls += 1
        events += len(page["events"])
        after = page["next_after"]
        if not page["has_more"]:
            conn.close()
            return events, calls


def timed_readers(port: int, token: str, limit: int, readers: int, types: str = "") -> dict:
    results: list[tuple[int, int]] = []
    lock = threading.Lock()

    def reader() -> None:
        result = read_feed(port, token, limit, types)
        with lock:
            results.append(result)

    threads = [threading.Thread(target=reader) for _ in range(readers)]
    cpu_client = time.process_time()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    events = sum(r[0] for r in results)
    return {
        "events_read": events,
        "calls": sum(r[1] for r in results),
        "seconds": round(seconds, 2),
        "events_per_second": round(events / seconds),
        "client_cpu_seconds": round(time.process_time() - cpu_client, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--readers", type=int, default=1, help="concurrent readers")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="machi-bench-pull-"))
    os.environ["MACHI_SECRET_KEY"] = secrets.token_urlsafe(50)
    pg = None
    server = None
    try:
        pg = configure(args.database, data_dir)
        (data_dir / "static").mkdir(exist_ok=True)  # no static files are served here
        started = time.perf_counter()
        seed_events(args.events)
        seed_seconds = time.perf_counter() - started

        from django.db import connections

        from machi.apiclients.services import apiclient_create
        from machi.linkage.selectors import feed_read
        from machi.tenancy.context import tenant_context

        with tenant_context(LG_CODE):
            token = apiclient_create(name="benchmark", scopes=["events:read"]).token
            # The selector alone: what the database and the document building cost.
            started = time.perf_counter()
            after, selected = 0, 0
            while True:
                page = feed_read(after=after, limit=args.limit)
                selected += len(page.events)
                after = page.next_after
                if not page.has_more:
                    break
            selector_seconds = time.perf_counter() - started
        connections.close_all()

        env = {
            **os.environ, "MACHI_SSL_REDIRECT": "0", "MACHI_ALLOWED_HOSTS": "127.0.0.1",
        }  # fmt: skip
        port = free_port()
        server = subprocess.Popen(  # noqa: S603
            [BIN / "gunicorn", "machi.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", str(args.workers), "--threads", str(args.threads),
             "--log-level", "warning"],
            env=env,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/v1/health", headers={"X-Forwarded-Proto": "https"})
                if conn.getresponse().status == 200:
                    break
            except (OSError, http.client.HTTPException):
                pass
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.3)
        read_feed(port, token, 100)  # warm up every worker's connections a little
        cpu_before = process_cpu_seconds(server.pid)
        everything = timed_readers(port, token, args.limit, args.readers)
        cpu_all = process_cpu_seconds(server.pid) - cpu_before
        cpu_before = process_cpu_seconds(server.pid)
        residents = timed_readers(port, token, args.limit, args.readers, "jp.machi.resident.*")
        cpu_filtered = process_cpu_seconds(server.pid) - cpu_before
        print(json.dumps({
            "benchmark": "linkage_pull", "database": args.database, "server": "gunicorn",
            "workers": args.workers, "threads": args.threads, "readers": args.readers,
            "events": args.events, "limit": args.limit,
            "all_types": {**everything, "server_cpu_seconds": round(cpu_all, 2)},
            "types_resident_only": {**residents, "server_cpu_seconds": round(cpu_filtered, 2)},
            "selector_only_events_per_second": round(selected / selector_seconds),
            "seed_seconds": round(seed_seconds, 1),
            "target_events_per_second": 5000,
            "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        }))  # fmt: skip
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if pg is not None:
            from django.db import connections

            connections.close_all()
            pg.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
