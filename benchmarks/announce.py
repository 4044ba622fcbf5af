"""Fan-out of one announcement: mail subscribers and ActivityPub followers, through the
production delivery path.

Run by hand::

    .venv/bin/python benchmarks/announce.py [--subscribers 10000] [--followers 1000]
        [--workers 1] [--timeout 300]

Sets up a throwaway data directory (SQLite, production settings over plain HTTP),
migrates, seeds the demo municipalities, then at 千代田区 ``--subscribers`` confirmed
mail subscribers of 防災 and ``--followers`` ActivityPub followers, each with an inbox
of its own (no shared inbox: every follower is one signed POST).

The receivers run in this process on loopback: an SMTP server (aiosmtpd) that counts
the messages it accepts, and an HTTP server (threads, keep-alive) standing for the
followers' servers, which answers 202 only to a POST that carries a ``Signature``
header naming ``(request-target) host date digest`` and a ``Digest`` matching the body
(else 401), counting them.

Then ``machi db_worker --no-reload`` (``--workers`` processes, as the machi-worker
service runs it) is started and ``machi announce publish … --category bousai`` is run;
the clock runs from the command's start until the SMTP server has every message and
every inbox its Create. The announcement's own tasks do the work: the fan-out task
sends the mail (one SMTP connection, batches of subscribers) and puts the Note in the
outbox, whose delivery task signs and POSTs to the inboxes.

Prints JSON: seconds until all mail arrived, until all inboxes were hit, the total
(target ≤ 60 s), the counts and refusals, and the load average (the machine may be
shared: read the figures with it).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BIN = Path(sys.executable).parent
LG_CODE = "131016"
SEED = """
import secrets
from django.utils import timezone
from machi.activitypub.models import Follower
from machi.announce.models import Subscriber
from machi.tenancy.context import tenant_context
now = timezone.now()
with tenant_context("{lg_code}"):
    Subscriber.objects.bulk_create(
        [Subscriber(email=f"resident{{i}}@example.jp", categories=",bousai,",
                    language=("ja", "ja-easy", "en")[i % 3], confirmed_at=now,
                    unsubscribe_token=secrets.token_urlsafe(32), created_at=now)
         for i in range({subscribers})],
        batch_size=1000,
    )
    Follower.objects.bulk_create(
        [Follower(actor_id=f"{inbox_origin}/users/u{{i}}",
                  inbox=f"{inbox_origin}/users/u{{i}}/inbox", accepted_at=now)
         for i in range({followers})],
        batch_size=1000,
    )
    print(Subscriber.objects.count(), Follower.objects.count())
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Tally:
    """Counts and the moment the last expected one arrived (monotonic seconds)."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.count = 0
        self.refused = 0
        self.done_at: float | None = None
        self._lock = threading.Lock()
        self.done = threading.Event()

    def hit(self) -> None:
        with self._lock:
            self.count += 1
            if self.count >= self.expected and self.done_at is None:
                self.done_at = time.monotonic()
                self.done.set()

    def refuse(self) -> None:
        with self._lock:
            self.refused += 1


def smtp_start(tally: Tally):
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope) -> str:
            # Only the seeded subscribers' (the demo sends staff notices of its own).
            if any(to.startswith("resident") for to in envelope.rcpt_tos):
                tally.hit()
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    return controller, port


_SIGNED = re.compile(r'headers="([^"]*)"')


def inbox_start(tally: Tally) -> tuple[ThreadingHTTPServer, int]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a Mastodon behind nginx answers

        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            signed = _SIGNED.search(self.headers.get("Signature") or "")
            digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
            ok = (
                signed is not None
                and set(signed[1].split()) >= {"(request-target)", "host", "date", "digest"}
                and self.headers.get("Digest") == digest
                and json.loads(body).get("type") == "Create"
            )
            self.send_response(202 if ok else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            (tally.hit if ok else tally.refuse)()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--followers", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=1, help="machi db_worker processes")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()

    mail, inboxes = Tally(args.subscribers), Tally(args.followers)
    controller, smtp_port = smtp_start(mail)
    inbox_server, inbox_port = inbox_start(inboxes)
    inbox_origin = f"http://127.0.0.1:{inbox_port}"

    data_dir = Path(tempfile.mkdtemp(prefix="machi-bench-announce-"))
    env = {
        **os.environ, "MACHI_DATA_DIR": str(data_dir), "MACHI_DEBUG": "0",
        "MACHI_SSL_REDIRECT": "0", "MACHI_SECRET_KEY": secrets.token_urlsafe(50),
        "MACHI_ALLOWED_HOSTS": "127.0.0.1", "MACHI_PUBLIC_URL": "http://127.0.0.1:8000",
        "MACHI_EMAIL_HOST": "127.0.0.1", "MACHI_EMAIL_PORT": str(smtp_port),
        # The followers' servers are on loopback here: let the URL policy reach them.
        "MACHI_WEBHOOK_ALLOW_HTTP": "1", "MACHI_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
    }  # fmt: skip
    for name in ("MACHI_DATABASE_URL", "MACHI_TENANT_DATABASE_URL_TEMPLATE"):
        env.pop(name, None)
    run = {"env": env, "check": True, "capture_output": True, "text": True}
    workers: list[subprocess.Popen] = []
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (the workers' stderr, shown on a miss)
    try:
        subprocess.run([BIN / "machi", "migrate", "-v0"], **run)  # noqa: S603
        subprocess.run([BIN / "machi", "demo", "--quiet", "--residents", "10"], **run)  # noqa: S603
        seed = SEED.format(
            lg_code=LG_CODE, subscribers=args.subscribers, followers=args.followers,
            inbox_origin=inbox_origin,
        )  # fmt: skip
        seeded = subprocess.run([BIN / "machi", "shell", "-c", seed], **run)  # noqa: S603
        subscriber_count, follower_count = map(int, seeded.stdout.split()[-2:])
        worker = [BIN / "machi", "db_worker", "--no-reload", "--interval", "0.2"]
        workers = [
            subprocess.Popen(worker, env=env, stdout=subprocess.DEVNULL, stderr=log)  # noqa: S603
            for _ in range(args.workers)
        ]
        time.sleep(3)  # the workers are up (they enqueue their periodic tasks first)
        started = time.monotonic()
        published = subprocess.run(  # noqa: S603
            [BIN / "machi", "announce", "publish", "--tenant", LG_CODE, "--category", "bousai",
             "--title", "避難所を開設しました", "--body", "**千代田小学校**を開設しました。",
             "--title-en", "A shelter is open", "--body-en", "Chiyoda Elementary School is open."],
            **run,
        )  # fmt: skip
        command_s = time.monotonic() - started
        deadline = started + args.timeout
        for tally in (mail, inboxes):
            tally.done.wait(max(0.0, deadline - time.monotonic()))
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        controller.stop()
        inbox_server.shutdown()
        shutil.rmtree(data_dir, ignore_errors=True)
        log.seek(0)
        worker_log = log.read().splitlines()[-20:]
        log.close()

    def seconds(tally: Tally) -> float | None:
        return None if tally.done_at is None else round(tally.done_at - started, 2)

    total = None
    if mail.done_at is not None and inboxes.done_at is not None:
        total = round(max(mail.done_at, inboxes.done_at) - started, 2)
    print(json.dumps({
        "benchmark": "announce",
        "path": f"machi announce publish + {args.workers} × machi db_worker (SQLite)",
        "published": published.stdout.strip().splitlines()[-1:],
        "publish_command_s": round(command_s, 2),
        "mail": {"subscribers": subscriber_count, "received": mail.count,
                 "all_received_s": seconds(mail)},
        "activitypub": {"followers": follower_count, "inboxes_hit": inboxes.count,
                        "refused_unsigned": inboxes.refused, "all_hit_s": seconds(inboxes)},
        "total_s": total,
        "target": {"total_s": 60},
        **({} if total is not None else {"worker_log": worker_log}),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }, indent=2, ensure_ascii=False))  # fmt: skip


if __name__ == "__main__":
    main()
