"""A live machi server sharing the test's database connections, a test inbox server,
and an HTTP Signatures signer and verifier written here from draft-cavage-12 (not the
app's own code: the app is checked against them)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

A, B = "131016", "271403"


# --- a live server -------------------------------------------------------------


@pytest.fixture
def live_machi(settings, municipality_a, municipality_b):
    """machi on a loopback port, in the test's transaction.

    pytest-django's ``live_server`` needs ``transactional_db``, whose flush would empty
    the municipalities the session made once; so the server threads get the test's own
    connections (as Django does for in-memory SQLite), rolled back with the test.
    """
    from django.core.servers.basehttp import ThreadedWSGIServer
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connections
    from django.test.testcases import LiveServerThread, _StaticFilesHandler

    from machi.activitypub.inbox import KEYS
    from machi.tenancy.context import tenant_context

    for lg_code in (A, B):
        with tenant_context(lg_code) as alias:
            connections[alias].ensure_connection()
    shared = {conn.alias: conn for conn in connections.all() if conn.connection is not None}

    class Server(ThreadedWSGIServer):
        def _close_connections(self):
            for conn in connections.all(initialized_only=True):
                if conn.alias not in shared:
                    conn.close()

    class Thread(LiveServerThread):
        server_class = Server

    for conn in shared.values():
        conn.inc_thread_sharing()
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    thread = Thread("127.0.0.1", _StaticFilesHandler, connections_override=shared)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    url = f"http://127.0.0.1:{thread.port}"
    settings.MACHI_PUBLIC_URL = url
    KEYS.clear()
    try:
        yield url
    finally:
        thread.terminate()
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        for conn in shared.values():
            conn.dec_thread_sharing()
        KEYS.clear()


# --- draft-cavage-http-signatures-12, independently ---------------------------------

_PARAM = re.compile(r'(\w+)="([^"]*)"')


def cavage_verify(*, method: str, path: str, headers: dict[str, str], body: bytes, public_pem: str):
    """Verify a request as the draft says (section 2.5), with cryptography; raise
    AssertionError. ``headers`` maps lower-case names to values."""
    params = dict(_PARAM.findall(headers["signature"]))
    assert params["algorithm"] == "rsa-sha256"
    names = params["headers"].split(" ")
    for required in ("(request-target)", "host", "date", "digest"):
        assert required in names, f"{required} not signed"
    lines = []
    for name in names:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {path}")
        else:
            lines.append(f"{name}: {headers[name]}")
    key = serialization.load_pem_public_key(public_pem.encode())
    key.verify(
        base64.b64decode(params["signature"]),
        "\n".join(lines).encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )  # raises InvalidSignature
    expected = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert headers["digest"] == expected, "Digest does not match the body"
    return params["keyId"]


def cavage_sign(
    *,
    method: str,
    path: str,
    host: str,
    body: bytes,
    key_id: str,
    private_key,
    date: str | None = None,
) -> dict[str, str]:
    headers = {
        "Host": host,
        "Date": date or formatdate(usegmt=True),
        "Digest": "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode(),
    }
    text = "\n".join(
        [
            f"(request-target): {method.lower()} {path}",
            f"host: {headers['Host']}",
            f"date: {headers['Date']}",
            f"digest: {headers['Digest']}",
        ]
    )
    signature = base64.b64encode(
        private_key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    ).decode()
    headers["Signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",'
        f'headers="(request-target) host date digest",signature="{signature}"'
    )
    return headers


# --- a remote server: one actor with an inbox --------------------------------------


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class RemoteServer:
    """A Mastodon-like neighbour on loopback: actor ``alice`` (a key pair of its own)
    whose inbox answers with ``statuses`` in turn (then 202) and records each POST."""

    url: str
    private_key: object
    public_pem: str
    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    @property
    def actor_id(self) -> str:
        return f"{self.url}/users/alice"

    @property
    def inbox(self) -> str:
        return f"{self.url}/users/alice/inbox"

    @property
    def key_id(self) -> str:
        return f"{self.actor_id}#main-key"

    def actor_document(self) -> dict:
        return {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": self.actor_id,
            "type": "Person",
            "preferredUsername": "alice",
            "inbox": self.inbox,
            "publicKey": {
                "id": self.key_id,
                "owner": self.actor_id,
                "publicKeyPem": self.public_pem,
            },
        }


@pytest.fixture
def remote():
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    state: dict[str, RemoteServer] = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def do_GET(self):
            server = state["server"]
            if self.path == "/users/alice":
                body = json.dumps(server.actor_document()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/activity+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            elif self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", "/users/alice")
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

        def do_POST(self):
            server = state["server"]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                server.received.append(
                    Received(
                        "POST",
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                    )
                )
                status = server.statuses.pop(0) if server.statuses else 202
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    server = RemoteServer(f"http://127.0.0.1:{httpd.server_address[1]}", private_key, public_pem)
    state["server"] = server
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    httpd.shutdown()
    httpd.server_close()
