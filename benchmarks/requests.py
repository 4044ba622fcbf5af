"""Residents' requests and the contact center: filing over HTTP, Open311 GET requests
over 100,000 requests, FAQ search over 5,000 answers, SLA of 100,000 tickets.

Run by hand::

    .venv/bin/python benchmarks/requests.py [--database sqlite|postgres] [--rounds 100]

Builds a municipality in a temporary data directory (production settings, HTTP on a
loopback port: Django's WSGI handler in a thread of this process), then:

* **file_form_photo**: ``--rounds`` filings through the residents' public form (CSRF,
  a 1600×1200 JPEG photo with EXIF GPS data checked by content, re-encoded without its
  EXIF, point routed by area, audit, outbox; target p95 ≤ 150 ms). The rate limit per
  client address is lifted for this one client;
* **file_http**: the same through Open311 ``POST requests.json`` with a ``media_url``;
* **open311_get**: ``GET requests.json`` with ``--requests`` requests in the database
  (default: the newest 1,000 of the last 90 days, each with its latest public answer;
  and one week of one service, open only), p50/p95 in ms (target p95 ≤ 100 ms);
* **faq_search** and **sla_compute**: as ``benchmarks/contact.py`` (targets p95 ≤ 20 ms,
  ≤ 2 s).

The machine may be shared: the load average is printed with the figures. Prints JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from contact import bench_search as bench_faq
from contact import bench_sla, grow_faq
from registry_import import LG_CODE, configure


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def figures(times: list[float], target: float) -> dict:
    return {"rounds": len(times), "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(percentile(times, 0.95), 1), "target_p95_ms": target}  # fmt: skip


def serve() -> int:
    """Django on a loopback port (threaded WSGI server); returns the port."""
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from django.core.handlers.wsgi import WSGIHandler

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class Quiet(WSGIRequestHandler):
        def log_message(self, format, *args):
            pass

    httpd = make_server("127.0.0.1", 0, WSGIHandler(), server_class=Server, handler_class=Quiet)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd.server_port


def call(port: int, method: str, path: str, form: dict | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = urlencode(form) if form is not None else None
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if form else {}
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


def setup_requests() -> str:
    from machi.accounts.models import Department
    from machi.apiclients.services import apiclient_create
    from machi.requests.services import area_create, routing_rule_set
    from machi.tenancy.models import Municipality

    municipality = Municipality.objects.get(lg_code=LG_CODE)
    Department.objects.get_or_create(municipality=municipality, code="doro",
                                     defaults={"name": "道路課"})  # fmt: skip
    ring = [[139.74, 35.68], [139.77, 35.68], [139.77, 35.70], [139.74, 35.70], [139.74, 35.68]]
    area = area_create(name="千代田一丁目", kind="polygon",
                       geometry=json.dumps({"type": "Polygon", "coordinates": [ring]}))  # fmt: skip
    routing_rule_set(department="doro", area=area)
    return apiclient_create(name="bench", scopes=["requests:write"]).token


def bench_file(port: int, token: str, rounds: int, rng: random.Random) -> dict:
    path = f"/open311/v2/{LG_CODE}/requests.json"
    times = []
    for i in range(rounds + 10):
        form = {
            "api_key": token, "service_code": "streetlight",
            "lat": f"{35.681 + rng.random() * 0.018:.6f}",
            "long": f"{139.741 + rng.random() * 0.028:.6f}",
            "description": f"街灯が点滅しています（{i}）", "email": f"r{i}@example.jp",
            "media_url": f"https://photos.example.jp/{i}.jpg",
        }  # fmt: skip
        start = time.perf_counter()
        status, body = call(port, "POST", path, form)
        elapsed = (time.perf_counter() - start) * 1000
        assert status == 200, body
        if i >= 10:  # the first ones load code and caches
            times.append(elapsed)
    return figures(times, 150)


def _photo() -> bytes:
    """A phone-sized JPEG with EXIF location data, as residents' photos come."""
    import io

    from PIL import Image

    # noise: it compresses like a photograph (about 1 MB), not like a flat colour
    image = Image.frombytes("RGB", (1600, 1200), random.Random(0).randbytes(1600 * 1200 * 3))
    image = image.resize((1600, 1200), Image.Resampling.BOX).reduce(2).resize((1600, 1200))
    exif = Image.Exif()
    exif[0x0110] = "Bench Phone"  # Model
    exif.get_ifd(0x8825).update({1: "N", 2: (35.0, 40.0, 52.0), 3: "E", 4: (139.0, 45.0, 0.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def _multipart(fields: dict[str, str], photo: bytes) -> tuple[bytes, str]:
    boundary = "machibench" + os.urandom(8).hex()
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())  # fmt: skip
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
                 f'filename="IMG_0001.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
                 + photo + b"\r\n")  # fmt: skip
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def bench_file_form(port: int, rounds: int, rng: random.Random) -> dict:
    """Filing through the public form with a photo, as a resident's browser does."""
    import re

    from django.core.management import call_command

    from machi.requests import abuse

    call_command("collectstatic", "--noinput", verbosity=0)  # production serves hashed names
    abuse.PER_ADDRESS = 1_000_000  # one client files every request of the benchmark
    path = f"/{LG_CODE}/requests/new/"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    page = response.read().decode()
    assert response.status == 200, (response.status, response.getheaders())
    cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie", ""))[1]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    connection.close()
    photo = _photo()
    times = []
    for i in range(rounds + 5):
        body, content_type = _multipart({
            "csrfmiddlewaretoken": token, "category": "streetlight",
            "description": f"街灯が点滅しています（{i}）",
            "lat": f"{35.681 + rng.random() * 0.018:.6f}",
            "long": f"{139.741 + rng.random() * 0.028:.6f}", "address": "", "website": "",
        }, photo)  # fmt: skip
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start = time.perf_counter()
        connection.request("POST", path, body=body, headers={
            "Content-Type": content_type, "Cookie": f"csrftoken={cookie}",
            "Referer": f"http://127.0.0.1:{port}{path}", "Host": f"127.0.0.1:{port}",
        })  # fmt: skip
        response = connection.getresponse()
        data = response.read()
        elapsed = (time.perf_counter() - start) * 1000
        connection.close()
        assert response.status in (302, 303), (response.status, data[:2000])
        if i >= 5:  # the first ones load code and caches
            times.append(elapsed)
    return {**figures(times, 150), "photo_bytes": len(photo)}


def grow_requests(total: int, rng: random.Random) -> int:
    from machi.requests.models import (
        Category,
        Request,
        RequestUpdate,
        Routing,
        Status,
        UpdateKind,
    )
    from machi.requests.services import public_code_generate

    categories = list(Category.objects.all())
    statuses = [Status.OPEN, Status.INVESTIGATING, Status.IN_PROGRESS, Status.FIXED,
                Status.CLOSED]  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    codes: set[str] = set(Request.objects.values_list("public_code", flat=True))
    batch: list = []
    made = 0
    while made < total:
        code = public_code_generate()
        if code in codes:
            continue
        codes.add(code)
        at = now - dt.timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
        category = categories[made % len(categories)]
        batch.append(Request(
            public_code=code, category=category, description=f"内容 {made}",
            address="千代田1", department="doro", department_name="道路課",
            routing=Routing.RULE, status=rng.choice(statuses), channel="web",
            is_public=rng.random() < 0.95, requested_at=at, updated_at=at,
            expected_at=at + dt.timedelta(days=14),
        ))  # fmt: skip
        made += 1
        if len(batch) == 5000 or made == total:
            created = Request.objects.bulk_create(batch)
            RequestUpdate.objects.bulk_create(
                RequestUpdate(request=r, kind=UpdateKind.ANSWER, status=r.status,
                              text="確認しました", is_public=True, created_at=r.updated_at)
                for r in created[::3]
            )  # fmt: skip
            batch = []
    return Request.objects.count()


def bench_get(port: int, rounds: int) -> dict:
    week_start = (dt.datetime.now(dt.UTC) - dt.timedelta(days=30)).isoformat(timespec="seconds")
    week_end = (dt.datetime.now(dt.UTC) - dt.timedelta(days=23)).isoformat(timespec="seconds")
    queries = {
        "default_90_days": {},
        "one_service_one_week_open": {"service_code": "streetlight", "status": "open",
                                      "start_date": week_start, "end_date": week_end},
    }  # fmt: skip
    result = {}
    for name, params in queries.items():
        path = f"/open311/v2/{LG_CODE}/requests.json?{urlencode(params)}"
        call(port, "GET", path)
        times, rows = [], 0
        for _ in range(rounds):
            start = time.perf_counter()
            status, body = call(port, "GET", path)
            times.append((time.perf_counter() - start) * 1000)
            assert status == 200, body
            rows = len(json.loads(body))
        result[name] = {**figures(times, 100), "rows_returned": rows}
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--answers", type=int, default=5000)
    parser.add_argument("--tickets", type=int, default=100_000)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="machi-bench-requests-"))
    os.environ["MACHI_SSL_REDIRECT"] = "0"  # plain HTTP on loopback
    server = None
    try:
        server = configure(args.database, data_dir)
        from machi.tenancy.context import tenant_context

        rng = random.Random(13)
        with tenant_context(LG_CODE):
            token = setup_requests()
        port = serve()
        result: dict = {"database": args.database, "load_average_before": os.getloadavg()}
        result["file_form_photo"] = bench_file_form(port, args.rounds, rng)
        result["file_http"] = bench_file(port, token, args.rounds, rng)
        with tenant_context(LG_CODE):
            start = time.perf_counter()
            result["requests_in_database"] = grow_requests(args.requests, rng)
            result["requests_load_seconds"] = round(time.perf_counter() - start, 1)
        result["open311_get"] = bench_get(port, max(20, args.rounds // 2))
        with tenant_context(LG_CODE):
            result["faq_answers"] = grow_faq(args.answers, rng)
            result["faq_search"] = bench_faq(args.rounds * 2)
            result["sla_compute"] = bench_sla(args.tickets, rng)
        result["load_average_after"] = os.getloadavg()
        print(json.dumps(result, ensure_ascii=False, indent=2))
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
