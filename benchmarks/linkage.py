# ruff: noqa: S603 - runs our own `machi` executable with fixed arguments
"""Latency from commit to webhook receipt (target: p99 ≤ 1 s at 200 events/s, DESIGN.md).

Run by hand::

    .venv/bin/python benchmarks/linkage.py [--rate 200] [--seconds 60] [--subjects 1000]
        [--threads 8] [--poll 0.1] [--database sqlite|postgres] [--no-pull]

Sets up a throwaway data directory (and, for ``postgres``, a throwaway PostgreSQL
server from ``machi.testing.postgres``), migrates, creates a municipality, starts a
local webhook receiver (a real HTTP server that verifies every signature with
``standardwebhooks``), subscribes it with ``machi subscription create`` and runs
``machi linkage worker`` as a separate process. This process then appends ``--rate``
events per second for ``--seconds`` through ``outbox_append``, each in its own committed
transaction, over ``--subjects`` residents, and records the commit time of each event;
the receiver records the arrival time of each event id. Prints JSON with p50/p95/p99/max
of commit → receipt in ms, events lost (must be 0), duplicates, the worker's CPU seconds
and the load average. When ``benchmarks/linkage_pull.py`` (pull-feed throughput) exists it
is run afterwards and its JSON is included under ``"pull"``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
LG_CODE = "131016"
HERE = Path(__file__).resolve().parent


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))], 1)


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return round((int(fields[11]) + int(fields[12])) / ticks, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--subjects", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8, help="worker threads")
    parser.add_argument("--poll", type=float, default=0.1, help="worker poll interval (s)")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--no-pull", action="store_true", help="skip linkage_pull.py")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="machi-bench-linkage-"))
    os.environ["MACHI_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("MACHI_SECRET_KEY", "bench-linkage-" + "b" * 50)
    os.environ["DJANGO_SETTINGS_MODULE"] = "machi.settings"
    # The receiver listens on loopback over plain HTTP: the URL policy must allow it.
    os.environ["MACHI_WEBHOOK_ALLOW_HTTP"] = "1"
    os.environ["MACHI_WEBHOOK_ALLOWED_NETWORKS"] = "127.0.0.0/8"
    for name in ("MACHI_DATABASE_URL", "MACHI_TENANT_DATABASE_URL_TEMPLATE"):
        os.environ.pop(name, None)
    server = None
    if args.database == "postgres":
        import psycopg

        from machi.testing.postgres import start_server

        server = start_server()
        os.environ["MACHI_DATABASE_URL"] = server.url("machi_control")
        os.environ["MACHI_TENANT_DATABASE_URL_TEMPLATE"] = server.url("machi_{lg_code}")
        with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
            conn.execute('CREATE DATABASE "machi_control"')
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    machi = str(BIN / "machi")
    worker = None
    receiver = None
    try:
        subprocess.run([machi, "migrate", "--verbosity", "0"], env=env, check=True)
        subprocess.run(
            [machi, "tenant", "create", "--code", LG_CODE, "--name", "千代田区"],
            env=env, check=True, capture_output=True,
        )  # fmt: skip

        import django

        django.setup()
        from django.db import transaction

        from machi.linkage.services import outbox_append
        from machi.linkage.tests.receiver import Receiver
        from machi.linkage.webhooks import VERIFICATION_TYPE, secret_generate
        from machi.tenancy.context import tenant_context

        receiver = Receiver(secret=secret_generate()).start()
        subprocess.run(
            [machi, "subscription", "create", "--tenant", LG_CODE, "--url", receiver.url,
             "--types", "jp.machi.resident.*", "--secret", receiver.secret],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        log = (data_dir / "worker.log").open("w")
        worker = subprocess.Popen(
            [machi, "linkage", "worker", "--threads", str(args.threads), "--poll",
             str(args.poll), "--report", "10"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        # Warm up: wait until the worker delivered a first event (it is up and polling).
        with tenant_context(LG_CODE) as alias, transaction.atomic(using=alias):
            warmup = str(outbox_append(type="jp.machi.resident.born", subject="warmup").event_id)
        deadline = time.monotonic() + 60
        while warmup not in receiver.ids() and time.monotonic() < deadline:
            time.sleep(0.05)

        committed: dict[str, float] = {}
        total = int(args.rate * args.seconds)
        load_before = Path("/proc/loadavg").read_text().split()[:3]
        cpu_self_before = time.process_time()
        started = time.monotonic()
        with tenant_context(LG_CODE) as alias:
            for n in range(total):
                due = started + n / args.rate
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                with transaction.atomic(using=alias):
                    event = outbox_append(
                        type="jp.machi.resident.moved_within",
                        subject=f"{n % args.subjects:015d}",
                        data={"n": n},
                    )
                committed[str(event.event_id)] = time.time()
        append_seconds = time.monotonic() - started
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not set(committed) <= receiver.ids():
            time.sleep(0.1)
        load_after = Path("/proc/loadavg").read_text().split()[:3]
        worker_cpu = cpu_seconds(worker.pid)
        arrivals = {r.id: r.at for r in receiver.unique() if r.event["type"] != VERIFICATION_TYPE}
        latencies = [(arrivals[i] - t) * 1000 for i, t in committed.items() if i in arrivals]
        # p99 per 5-second window of commit time: shows stalls (e.g. lock waits) over time
        first_commit = min(committed.values())
        windows: dict[int, list[float]] = {}
        for i, t in committed.items():
            if i in arrivals:
                windows.setdefault(int((t - first_commit) // 5), []).append(
                    (arrivals[i] - t) * 1000
                )
        result = {
            "benchmark": "linkage webhook commit → receipt",
            "database": args.database,
            "events": total,
            "rate_target": args.rate,
            "rate_achieved": round(total / append_seconds, 1),
            "subjects": args.subjects,
            "worker_threads": args.threads,
            "poll_seconds": args.poll,
            "received": len(latencies),
            "lost": total - len(latencies),
            "duplicates": len(receiver.processed) - len(receiver.unique()),  # at-least-once
            "bad_signatures": receiver.bad_signatures,
            "latency_ms": {
                "p50": percentile(latencies, 0.50),
                "p95": percentile(latencies, 0.95),
                "p99": percentile(latencies, 0.99),
                "max": round(max(latencies), 1),
            }
            if latencies
            else None,
            "target_p99_ms": 1000,
            "p99_ms_per_5s": [percentile(windows[k], 0.99) for k in sorted(windows)],
            "worker_cpu_seconds": worker_cpu,
            "appender_and_receiver_cpu_seconds": round(time.process_time() - cpu_self_before, 2),
            "loadavg_before": load_before,
            "loadavg_after": load_after,
            "cpus": os.cpu_count(),
        }
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        if receiver is not None:
            receiver.stop()
        if server is not None:
            from django.db import connections

            connections.close_all()
            server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)

    pull_script = HERE / "linkage_pull.py"
    if pull_script.exists() and not args.no_pull:
        clean = {
            k: v
            for k, v in os.environ.items()
            if k
            not in {"MACHI_DATA_DIR", "MACHI_DATABASE_URL", "MACHI_TENANT_DATABASE_URL_TEMPLATE"}
        }
        run = subprocess.run(
            [sys.executable, str(pull_script), "--database", args.database],
            env=clean,
            capture_output=True,
            text=True,
        )
        try:
            result["pull"] = json.loads(run.stdout[run.stdout.index("{") :])
        except ValueError:
            result["pull"] = {"error": (run.stderr or run.stdout)[-2000:]}
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
