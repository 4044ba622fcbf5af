"""Latency of the counter intake over HTTP: POST /api/v1/<lg_code>/life-events.

Run by hand::

    .venv/bin/python benchmarks/intake_http.py [--requests 400] [--clients 20] [--workers <cores>]
        [--threads 1] [--database sqlite|postgres]

Sets up a throwaway data directory (SQLite, or a throwaway PostgreSQL server with
``--database postgres``: fsync off, as in the test suite), migrates, seeds the demo municipalities
(staff only), starts gunicorn (production settings, HTTP without TLS redirect) and signs
in as the demo counter clerk (password + TOTP). Then ``--clients`` threads post
move-in filings of 3-person households (two adults with 国保, an 8-year-old) — each one
writes 3 residents, their history, search keys, ~20 tasks, outbox events and audit
entries in one transaction — and the script prints JSON with p50/p95/p99 in ms
(target: p95 ≤ 100 ms at 20 concurrent clients, DESIGN.md), the CPU milliseconds per
intake of the server (gunicorn workers) and of this client, and the load average
(the machine may be shared: read the figures with it). ``--warmup`` intakes (30) go
first, unmeasured, so that every worker has loaded its code and catalogue.
"""

from __future__ import annotations

import argparse
import atexit
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

BIN = Path(sys.executable).parent
LG_CODE = "131016"
USER = "chiyoda-clerk"
PASSWORD = "machi-demo-2026"  # noqa: S105 - the demo's printed password


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))], 1)


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of process ``pid`` and its live children (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    user = system = 0.0
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        user += int(fields[11]) / ticks
        system += int(fields[12]) / ticks
    return user, system


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Session:
    """A cookie-keeping HTTP client (one connection per thread)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.local = threading.local()

    def _conn(self) -> http.client.HTTPConnection:
        if not hasattr(self.local, "conn"):
            self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        return self.local.conn

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:  # fmt: skip
        headers = dict(headers or {})
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers["X-Forwarded-Proto"] = "https"  # production settings: cookies are Secure
        headers["Referer"] = f"https://127.0.0.1:{self.port}/login/"
        conn = self._conn()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            del self.local.conn  # a fresh connection next time
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        return response.status, data

    def form(self, path: str, fields: dict[str, str]) -> int:
        _, page = self.request("GET", path)
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urlencode({**fields, "csrfmiddlewaretoken": token.decode()}).encode()
        status, _ = self.request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        return status


def filing(n: int) -> bytes:
    family = f"試験{n:05d}"
    adult = {"sex": "1", "relationship": "世帯主", "insurance": "kokuho"}
    return json.dumps(
        {
            "event": {"type": "move_in", "date": "2026-04-03", "subjects": ["p1", "p2", "p3"]},
            "persons": [
                {
                    **adult,
                    "id": "p1",
                    "name": f"{family} 一郎",
                    "kana": "シケン イチロウ",
                    "birth_date": "1985-06-15",
                },
                {
                    **adult,
                    "id": "p2",
                    "name": f"{family} 花子",
                    "kana": "シケン ハナコ",
                    "birth_date": "1987-02-01",
                    "sex": "2",
                    "relationship": "妻",
                },
                {
                    **adult,
                    "id": "p3",
                    "name": f"{family} 陽太",
                    "kana": "シケン ヨウタ",
                    "birth_date": "2018-01-10",
                    "relationship": "子",
                },
            ],
            "answers": {},
            "address": {
                "postal_code": "1000001",
                "prefecture": "東京都",
                "city": "千代田区",
                "machiaza": "千代田",
                "banchi": "1-1",
            },
        },
        ensure_ascii=False,
    ).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2,
        help="gunicorn worker processes (default: one per core, as docs/operations.md advises)",
    )  # fmt: skip
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--warmup", type=int, default=30,
        help="intakes posted by all clients at once before measuring, so that every worker "
        "has loaded its code, catalogue and connections (0: measure from the first)",
    )  # fmt: skip
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="machi-bench-intake-"))
    env = {
        **os.environ, "MACHI_DATA_DIR": str(data_dir), "MACHI_DEBUG": "0",
        "MACHI_SSL_REDIRECT": "0", "MACHI_SECRET_KEY": secrets.token_urlsafe(50),
        "MACHI_ALLOWED_HOSTS": "127.0.0.1",
    }  # fmt: skip
    for name in ("MACHI_DATABASE_URL", "MACHI_TENANT_DATABASE_URL_TEMPLATE"):
        env.pop(name, None)
    postgres = None
    if args.database == "postgres":
        import psycopg

        from machi.testing.postgres import start_server

        postgres = start_server()
        atexit.register(postgres.stop)  # also when the setup below fails
        env["MACHI_DATABASE_URL"] = postgres.url("machi_control")
        env["MACHI_TENANT_DATABASE_URL_TEMPLATE"] = postgres.url("machi_{lg_code}")
        with psycopg.connect(postgres.url("postgres"), autocommit=True) as conn:
            conn.execute('CREATE DATABASE "machi_control"')
    run = {"env": env, "check": True, "capture_output": True, "text": True}
    subprocess.run([BIN / "machi", "migrate", "-v0"], **run)  # noqa: S603
    subprocess.run([BIN / "machi", "demo", "--quiet", "--residents", "1000"], **run)  # noqa: S603
    subprocess.run([BIN / "machi", "collectstatic", "--noinput", "-v0"], **run)  # noqa: S603
    secret = subprocess.run(  # noqa: S603
        [BIN / "machi", "shell", "-c",
         "from django_otp.plugins.otp_totp.models import TOTPDevice;"
         f"print(TOTPDevice.objects.get(user__username='{USER}').key)"],
        **run,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        [BIN / "gunicorn", "machi.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--threads", str(args.threads), "--log-level", "warning"],
        env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        session = Session(port)
        while True:
            try:
                if session.request("GET", "/api/v1/health")[0] == 200:
                    break
            except (OSError, http.client.HTTPException):
                pass
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.3)
        from django_otp.oath import TOTP

        session.form("/login/", {"username": USER, "password": PASSWORD})
        code = f"{TOTP(bytes.fromhex(secret)).token():06d}"
        session.form("/login/otp/", {"token": code})
        headers = {"Content-Type": "application/json", "X-CSRFToken": session.cookies["csrftoken"]}
        status, body = session.request("POST", f"/api/v1/{LG_CODE}/life-events", filing(0), headers)
        if status != 201:
            raise SystemExit(f"intake refused: {status} {body[:300]!r}")

        latencies: list[float] = []
        failures: list[int] = []
        lock = threading.Lock()

        def client() -> None:
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                started = time.perf_counter()
                status, _ = session.request(
                    "POST", f"/api/v1/{LG_CODE}/life-events", filing(n), headers
                )
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    (latencies if status == 201 else failures).append(
                        elapsed if status == 201 else status
                    )

        def run_clients(count: int) -> None:
            threads = [threading.Thread(target=client) for _ in range(count)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        first = args.requests + 1
        counter = iter(range(first, first + args.warmup))
        run_clients(max(args.clients, 4 * args.workers * args.threads))  # every worker busy
        latencies.clear()
        failures.clear()
        counter = iter(range(1, args.requests + 1))
        started = time.perf_counter()
        server_cpu, client_cpu = cpu_seconds(server.pid), time.process_time()
        run_clients(args.clients)
        seconds = time.perf_counter() - started
        server_user, server_system = (
            after - before
            for after, before in zip(cpu_seconds(server.pid), server_cpu, strict=True)
        )
        client_cpu = time.process_time() - client_cpu
        done = max(1, len(latencies) + len(failures))
        print(json.dumps({
            "benchmark": "intake_http", "database": args.database, "server": "gunicorn",
            "workers": args.workers, "threads": args.threads, "clients": args.clients,
            "requests": args.requests, "warmup": args.warmup, "failed": len(failures),
            "failure_statuses": sorted(set(failures)),
            "per_second": round(len(latencies) / seconds, 1),
            "p50_ms": percentile(latencies, 0.50), "p95_ms": percentile(latencies, 0.95),
            "p99_ms": percentile(latencies, 0.99), "target_p95_ms": 100,
            "server_cpu_ms_per_intake": round((server_user + server_system) * 1000 / done, 1),
            "server_system_ms_per_intake": round(server_system * 1000 / done, 1),
            "client_cpu_ms_per_intake": round(client_cpu * 1000 / done, 1),
            "cpus": os.cpu_count(), "loadavg": os.getloadavg(),
        }))  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
