"""The public website: a cached public page served by gunicorn (2 workers), and the
uncached news list over 10,000 news items.

Run by hand::

    .venv/bin/python benchmarks/site.py [--generator auto|wrk|python] [--page-cache on|off]
        [--clients 32] [--seconds 10] [--requests 6000]

Sets up a throwaway data directory (SQLite, production settings over plain HTTP),
migrates, seeds the demo municipalities (staff, 1,000 residents, the demo site) and
10,000 published news items at 千代田区, and starts gunicorn with 2 workers.

1. **Cached page**: ``--clients`` connections over loopback ask for the top page
   ``/131016/`` (``Cache-Control: public``) for ``--seconds``, once as plain GETs (full
   200 responses) and once revalidating with ``If-None-Match`` (304s, what a browser or
   proxy with the page in its cache sends). With ``--page-cache on`` (the default, as in
   production) they are answered by :mod:`machi.site.pagecache`; ``off`` measures Django.
   The load generator is ``wrk`` (C, one thread: it must not eat the two cores the server
   is measured on; ``apt-get install wrk``) when installed, else ``--clients`` asyncio
   connections in this process (``--requests`` in all at most), whose own CPU then
   competes with the server's. The JSON names the generator and its CPU seconds.
   Targets (DESIGN.md): ≥ 1,500 req/s, p99 ≤ 50 ms.
2. **News list, uncached**: ``/131016/news/?page=N`` for pages all over the 10,000
   items, one request at a time, each with a query string the server has not seen;
   target p95 ≤ 50 ms.

Prints JSON: requests/s, p50/p95/p99 in ms, failures, and the load average (the machine
may be shared: read the figures with it).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
LG_CODE = "131016"
NEWS = 10_000
SEED_NEWS = f"""
import datetime
from django.utils import timezone
from machi.site.models import NewsItem, Status
from machi.tenancy.context import tenant_context
now = timezone.now()
with tenant_context("{LG_CODE}"):
    NewsItem.objects.bulk_create(
        [NewsItem(title={{"ja": f"お知らせ {{i}}", "en": f"News {{i}}"}}, body={{"ja": "本文"}},
                  category=("kurashi", "bosai", "kosodate")[i % 3], status=Status.PUBLISHED,
                  published_at=now - datetime.timedelta(minutes=i), created_at=now,
                  updated_at=now) for i in range({NEWS})],
        batch_size=1000,
    )
    print(NewsItem.objects.filter(status=Status.PUBLISHED).count())
"""


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))], 2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _one(port: int, request: bytes) -> tuple[int, float]:
    """One request on a new connection (gunicorn's sync workers close each one)."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        if length:
            await reader.readexactly(length)
    finally:
        writer.close()
    return status, (time.perf_counter() - started) * 1000


async def _head(port: int, request: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
    finally:
        writer.close()
    return int(head.split(b" ", 2)[1]), head


async def load(port: int, request: bytes, *, total: int, clients: int, seconds: float,
               expect: int) -> dict:  # fmt: skip
    latencies: list[float] = []
    failures = 0
    remaining = total
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal remaining, failures
        while remaining > 0 and time.perf_counter() < deadline:
            remaining -= 1
            try:
                status, elapsed = await _one(port, request)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                failures += 1
                continue
            if status == expect:
                latencies.append(elapsed)
            else:
                failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies), "failures": failures,
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": percentile(latencies, 0.50), "p95_ms": percentile(latencies, 0.95),
        "p99_ms": percentile(latencies, 0.99),
    }  # fmt: skip


# wrk's report as JSON (latencies in microseconds); a 304 counts as a success.
WRK_SCRIPT = """
wrk.headers["Connection"] = "close"
%s
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %%d, "seconds": %%f, "errors": %%d, "p50": %%d, "p95": %%d, "p99": %%d}\\n',
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def wrk_load(port: int, path: str, *, headers: dict[str, str], clients: int,
             seconds: float) -> dict:  # fmt: skip
    lines = "\n".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items())
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % lines)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        done = subprocess.run(  # noqa: S603
            [shutil.which("wrk"), "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s",
             "--timeout", "5s", "-s", script.name, f"http://127.0.0.1:{port}{path}"],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
    finally:
        os.unlink(script.name)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    ok = report["requests"] - report["errors"]
    return {
        "requests": ok, "failures": report["errors"],
        "requests_per_second": round(ok / report["seconds"], 1),
        "p50_ms": round(report["p50"] / 1000, 2), "p95_ms": round(report["p95"] / 1000, 2),
        "p99_ms": round(report["p99"] / 1000, 2),
        "generator_cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime
                                 - before.ru_stime, 2),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0, help="per run")
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--page-cache", choices=("on", "off"), default="on")
    parser.add_argument("--news-requests", type=int, default=300)
    args = parser.parse_args()
    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "python"
    if generator == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")

    data_dir = Path(tempfile.mkdtemp(prefix="machi-bench-site-"))
    env = {
        **os.environ, "MACHI_DATA_DIR": str(data_dir), "MACHI_DEBUG": "0",
        "MACHI_SSL_REDIRECT": "0", "MACHI_SECRET_KEY": secrets.token_urlsafe(50),
        "MACHI_ALLOWED_HOSTS": "127.0.0.1",
        "MACHI_PAGE_CACHE": "1" if args.page_cache == "on" else "0",
    }  # fmt: skip
    for name in ("MACHI_DATABASE_URL", "MACHI_TENANT_DATABASE_URL_TEMPLATE"):
        env.pop(name, None)
    run = {"env": env, "check": True, "capture_output": True, "text": True}
    server = None
    try:
        subprocess.run([BIN / "machi", "migrate", "-v0"], **run)  # noqa: S603
        subprocess.run([BIN / "machi", "demo", "--quiet", "--residents", "1000"], **run)  # noqa: S603
        subprocess.run([BIN / "machi", "collectstatic", "--noinput", "-v0"], **run)  # noqa: S603
        seeded = subprocess.run([BIN / "machi", "shell", "-c", SEED_NEWS], **run)  # noqa: S603
        news_count = int(seeded.stdout.strip().splitlines()[-1])
        port = free_port()
        server = subprocess.Popen(  # noqa: S603
            [BIN / "gunicorn", "machi.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
             "--backlog", "2048", "--log-level", "warning"],
            env=env,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", f"/{LG_CODE}/")
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    etag = response.getheader("ETag")
                    cache_control = response.getheader("Cache-Control")
                    set_cookie = response.getheader("Set-Cookie")
                    break
            except (OSError, http.client.HTTPException):
                pass
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.3)

        def get(path: str, extra: str = "") -> bytes:
            return (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}"
                    "Connection: close\r\n\r\n").encode()  # fmt: skip

        top = get(f"/{LG_CODE}/")
        revalidate = get(f"/{LG_CODE}/", f"If-None-Match: {etag}\r\n")
        warm = dict(total=400, clients=args.clients, seconds=10)  # every worker loaded
        asyncio.run(load(port, top, expect=200, **warm))
        if generator == "wrk":
            runs = dict(clients=args.clients, seconds=args.seconds)
            full = wrk_load(port, f"/{LG_CODE}/", headers={}, **runs)
            not_modified = wrk_load(port, f"/{LG_CODE}/", headers={"If-None-Match": etag},
                                    **runs)  # fmt: skip
        else:
            full = asyncio.run(load(port, top, total=args.requests, clients=args.clients,
                                    seconds=args.seconds, expect=200))  # fmt: skip
            not_modified = asyncio.run(load(port, revalidate, total=args.requests,
                                            clients=args.clients, seconds=args.seconds,
                                            expect=304))  # fmt: skip
        # Answered by the page cache: its hits carry an Age header, Django's never.
        status, head = asyncio.run(_head(port, top))
        from_page_cache = status == 200 and b"\r\nage:" in head.lower()

        pages = news_count // 20
        latencies: list[float] = []
        failures = 0
        for n in range(args.news_requests):
            page = 1 + (n * 7919) % pages  # spread over the whole list
            path = f"/{LG_CODE}/news/?page={page}&n={n}"  # a URL nobody asked for before
            status, elapsed = asyncio.run(_one(port, get(path)))
            if status == 200:
                latencies.append(elapsed)
            else:
                failures += 1
        news = {
            "requests": len(latencies), "failures": failures, "items": news_count,
            "p50_ms": percentile(latencies, 0.50), "p95_ms": percentile(latencies, 0.95),
            "p99_ms": percentile(latencies, 0.99),
        }  # fmt: skip
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)
    print(json.dumps({
        "benchmark": "site",
        "cached_page": {
            "url": f"/{LG_CODE}/", "gunicorn_workers": 2, "clients": args.clients,
            "generator": "wrk -t1 (C)" if generator == "wrk" else "python asyncio",
            "page_cache": args.page_cache, "answered_by_page_cache": from_page_cache,
            "cache_control": cache_control, "set_cookie": set_cookie,
            "full_200": full, "revalidated_304": not_modified,
            "target": {"requests_per_second": 1500, "p99_ms": 50},
        },
        "news_list_uncached": {**news, "target": {"p95_ms": 50}},
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }, indent=2, ensure_ascii=False))  # fmt: skip


if __name__ == "__main__":
    main()
