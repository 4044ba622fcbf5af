"""A real HTTP webhook receiver for tests and benchmarks (``http.server`` in a thread).

It verifies every request with ``standardwebhooks.Webhook`` and records what it got.
``behaviour(receiver, request_number)`` decides the answer: ``"ok"`` (200), ``"fail"``
(500 before processing), ``"process_then_fail"`` (recorded as processed, then 500: the
sender will repeat it, a duplicate the receiver must drop by ``webhook-id``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    id: str
    headers: dict[str, str]
    body: bytes
    event: dict[str, Any]
    at: float  # time.time() at receipt


@dataclass
class Receiver:
    secret: str
    behaviour: Callable[[Receiver, int], str] = lambda receiver, n: "ok"
    delay: float = 0.0
    port: int = 0
    verify: bool = True  # False: accept any signature (the event is parsed unchecked)
    processed: list[Received] = field(default_factory=list)  # every processed request
    bad_signatures: int = 0
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/machi?x=1"

    def start(self) -> Receiver:
        receiver = self
        webhook = Webhook(self.secret)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    receiver.requests += 1
                    number = receiver.requests
                if receiver.delay:
                    time.sleep(receiver.delay)
                try:
                    event = webhook.verify(body, headers) if receiver.verify else json.loads(body)
                except WebhookVerificationError:
                    with receiver.lock:
                        receiver.bad_signatures += 1
                    self._answer(401)
                    return
                action = receiver.behaviour(receiver, number)
                if action == "fail":
                    self._answer(500)
                    return
                with receiver.lock:
                    receiver.processed.append(
                        Received(headers["webhook-id"], headers, body, event, time.time())
                    )
                self._answer(500 if action == "process_then_fail" else 204)

            def _answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    # --- what arrived -------------------------------------------------------------

    def unique(self) -> list[Received]:
        """First receipt of each event id, in arrival order (what a deduplicating
        receiver acts on)."""
        with self.lock:
            seen: set[str] = set()
            first = []
            for item in self.processed:
                if item.id not in seen:
                    seen.add(item.id)
                    first.append(item)
            return first

    def ids(self) -> set[str]:
        with self.lock:
            return {item.id for item in self.processed}


def in_order_per_subject(items: list[Received]) -> bool:
    last: dict[str, int] = {}
    for item in items:
        subject, seq = item.event["subject"], item.event["sequence"]
        if last.get(subject, 0) >= seq:
            return False
        last[subject] = seq
    return True
