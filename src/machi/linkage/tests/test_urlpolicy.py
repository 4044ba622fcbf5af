"""The webhook URL policy (SSRF): addresses, allowlist, pinning, redirects, one message."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.exceptions import ValidationError
from django.db import transaction

from machi.linkage import services, urlpolicy, webhooks
from machi.linkage.delivery import DeliveryWorker, RetryPolicy
from machi.linkage.models import Delivery, Subscription
from machi.linkage.services import outbox_append
from machi.linkage.tests.receiver import Receiver
from machi.linkage.urlpolicy import WebhookUrlRefused, address_problem, webhook_target
from machi.linkage.webhooks import CONNECTION_FAILED, POLICY_REFUSED, secret_generate, send
from machi.tenancy.context import tenant_context

LOOPBACK = ["127.0.0.0/8", "::1/128"]


@pytest.fixture
def rx():
    receiver = Receiver(secret=secret_generate()).start()
    yield receiver
    receiver.stop()


@pytest.fixture
def in_a(municipality_a):
    with tenant_context("131016"):
        yield


def _net(*entries: str):
    return [ipaddress.ip_network(e) for e in entries]


@pytest.mark.parametrize(
    ("address", "networks", "refused"),
    [
        ("93.184.215.14", [], False),
        ("2606:4700::1111", [], False),
        ("127.0.0.1", [], True),
        ("127.1.2.3", [], True),
        ("::1", [], True),
        ("169.254.10.1", [], True),
        ("fe80::1", [], True),
        ("169.254.169.254", [], True),
        ("fd00:ec2::254", [], True),
        ("0.0.0.0", [], True),  # noqa: S104 (an address to refuse, not bound)
        ("::", [], True),
        ("224.0.0.1", [], True),
        ("ff02::1", [], True),
        ("240.0.0.1", [], True),
        ("255.255.255.255", [], True),
        ("10.1.2.3", [], True),
        ("172.16.0.1", [], True),
        ("172.31.255.255", [], True),
        ("172.32.0.1", [], False),  # just outside 172.16/12
        ("192.168.1.1", [], True),
        ("100.64.0.1", [], True),  # CGNAT
        ("fc00::1", [], True),
        ("fd12:3456::1", [], True),
        ("fec0::1", [], True),  # site-local (deprecated, not global)
        ("192.0.2.1", [], True),  # documentation
        ("::ffff:127.0.0.1", [], True),  # IPv4-mapped
        ("::ffff:10.0.0.1", [], True),
        ("::ffff:169.254.169.254", [], True),
        ("::ffff:93.184.215.14", [], False),
        ("64:ff9b::a9fe:a9fe", [], True),  # NAT64 of the metadata address
        ("64:ff9b::5db8:d70e", [], False),  # NAT64 of a public address
        ("2002:7f00:1::1", [], True),  # 6to4 of 127.0.0.1
        ("fe80::1%eth0", [], True),  # scoped
        # The allowlist opens private ranges, exactly its own networks:
        ("10.1.2.3", ["10.1.0.0/16"], False),
        ("10.2.0.1", ["10.1.0.0/16"], True),
        ("192.168.5.5", ["192.168.5.0/24"], False),
        ("::ffff:10.1.2.3", ["10.1.0.0/16"], False),
        ("fd12:3456::1", ["fd12:3456::/32"], False),
        ("127.0.0.1", LOOPBACK, False),
        ("::1", LOOPBACK, False),
        # …but never metadata, unspecified or multicast:
        ("169.254.169.254", ["169.254.0.0/16"], True),
        ("fd00:ec2::254", ["fd00::/8"], True),
        ("0.0.0.0", ["0.0.0.0/8"], True),  # noqa: S104
        ("224.0.0.1", ["224.0.0.0/4"], True),
    ],
)
def test_address_table(address, networks, refused):
    assert (address_problem(address, networks=_net(*networks)) is not None) is refused


def test_every_resolved_address_must_be_allowed(settings):
    settings.MACHI_WEBHOOK_ALLOWED_NETWORKS = []
    calls = []

    def resolver(host, port, **kwargs):
        calls.append(host)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port)),
        ]

    with pytest.raises(WebhookUrlRefused) as caught:
        webhook_target("https://mixed.example.jp/hook", resolver=resolver)
    assert "10.0.0.5" in caught.value.detail
    assert "10.0.0.5" not in caught.value.message  # the administrator sees no address
    assert calls == ["mixed.example.jp"]


def test_https_only_unless_allowed(settings):
    settings.MACHI_WEBHOOK_ALLOW_HTTP = False
    public = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 80))]
    with pytest.raises(WebhookUrlRefused, match="https://"):
        webhook_target("http://example.jp/hook", resolver=lambda *a, **k: public)
    target = webhook_target("https://example.jp/hook?a=1", resolver=lambda *a, **k: public)
    assert (target.address, target.port, target.path) == ("93.184.215.14", 443, "/hook?a=1")
    assert target.host_header == "example.jp"
    settings.MACHI_WEBHOOK_ALLOW_HTTP = True
    assert webhook_target("http://example.jp/", resolver=lambda *a, **k: public).port == 80


@pytest.mark.django_db(databases="__all__")
def test_creation_over_http_refused_in_production(in_a, rx, settings):
    settings.MACHI_WEBHOOK_ALLOW_HTTP = False
    with pytest.raises(ValidationError, match="https://"):
        services.subscription_create(name="x", url=rx.url, types=[], secret=rx.secret)
    assert rx.requests == 0


@pytest.mark.django_db(databases="__all__")
def test_loopback_receiver_refused_without_the_allowlist_accepted_with_it(in_a, rx, settings):
    settings.MACHI_WEBHOOK_ALLOWED_NETWORKS = []
    for url in (rx.url, rx.url.replace("127.0.0.1", "localhost")):
        with pytest.raises(ValidationError) as caught:
            services.subscription_create(name="x", url=url, types=[], secret=rx.secret)
        assert caught.value.messages == [urlpolicy.REFUSED_ADDRESS]
    assert rx.requests == 0
    assert not Subscription.objects.exists()
    settings.MACHI_WEBHOOK_ALLOWED_NETWORKS = LOOPBACK
    subscription, _ = services.subscription_create(name="x", url=rx.url, types=[], secret=rx.secret)
    assert subscription.verified_at is not None
    assert rx.requests == 1


@pytest.mark.django_db(databases="__all__")
def test_every_delivery_checks_the_policy_again(in_a, rx, settings):
    """Allowed when it was created; refused once the deployment's allowlist changed."""
    services.subscription_create(name="x", url=rx.url, types=[], secret=rx.secret)
    settings.MACHI_WEBHOOK_ALLOWED_NETWORKS = []
    with transaction.atomic(using="tenant_131016"):
        outbox_append(type="jp.machi.resident.moved_in", subject="S1", data={})
    worker = DeliveryWorker(
        lg_codes=["131016"], policy=RetryPolicy(first_delay=3600), prune_interval=None
    )
    try:
        worker.drain(until=lambda: Delivery.objects.filter(attempts__gte=1).exists(), timeout=20)
    finally:
        worker.shutdown()
    delivery = Delivery.objects.get()
    assert delivery.last_error == POLICY_REFUSED
    assert delivery.delivered_at is None
    assert rx.requests == 1  # the verification only


class _Server:
    """A loopback HTTP server answering every request with ``status`` (and headers)."""

    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.hits: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("content-length", 0)))
                server.hits.append({k.lower(): v for k, v in self.headers.items()})
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("content-length", "0")
                self.end_headers()

            do_GET = do_POST

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _send(url: str, **kwargs):
    return send(url=url, secret=secret_generate(), msg_id="m1", body="{}", timeout=2.0, **kwargs)


def test_redirects_are_not_followed():
    elsewhere = _Server(204)
    redirecting = _Server(302, {"location": f"http://127.0.0.1:{elsewhere.port}/internal"})
    try:
        result = _send(f"http://127.0.0.1:{redirecting.port}/hook")
    finally:
        redirecting.close()
        elsewhere.close()
    assert not result.ok
    assert (result.status_code, result.error) == (302, "HTTP 302")
    assert len(redirecting.hits) == 1
    assert elsewhere.hits == []


def test_one_lookup_and_the_connection_goes_to_the_pinned_address():
    server = _Server(204)
    calls = []

    def rebinding_resolver(host, port, **kwargs):
        calls.append(host)
        address = "127.0.0.1" if len(calls) == 1 else "169.254.169.254"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    try:
        # The name exists nowhere: only the pinned address can have reached the server.
        result = _send(f"http://hooks.machi.test:{server.port}/h", resolver=rebinding_resolver)
    finally:
        server.close()
    assert result.ok
    assert calls == ["hooks.machi.test"]
    assert server.hits[0]["host"] == f"hooks.machi.test:{server.port}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db(databases="__all__")
def test_one_message_for_a_closed_port_a_timeout_and_no_such_host(in_a):
    closed = f"http://127.0.0.1:{_free_port()}/hook"
    silent = socket.socket()  # accepts connections (backlog), never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    hanging = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"

    def no_such_host(host, port, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    try:
        results = [
            _send(closed),
            send(url=hanging, secret=secret_generate(), msg_id="m", body="{}", timeout=0.3),
            _send("http://nowhere.machi.test/hook", resolver=no_such_host),
        ]
        messages = []
        for url in (closed, hanging):
            with pytest.raises(services.VerificationFailed) as caught:
                services.subscription_create(name="x", url=url, types=[], verify_timeout=0.3)
            messages.append(caught.value.messages)
    finally:
        silent.close()
    assert [r.error for r in results] == [CONNECTION_FAILED] * 3
    assert {r.status_code for r in results} == {None}
    assert messages[0] == messages[1]
    assert CONNECTION_FAILED in messages[0][0]


def _certificate(host: str, directory) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def test_tls_checks_the_host_name_at_the_pinned_address(tmp_path, monkeypatch, settings):
    settings.MACHI_WEBHOOK_ALLOW_HTTP = False
    cert, key = _certificate("hooks.machi.test", tmp_path)
    server = _Server(204)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    server.httpd.socket = server_context.wrap_socket(server.httpd.socket, server_side=True)
    monkeypatch.setattr(webhooks, "tls_context", lambda: ssl.create_default_context(cafile=cert))

    def resolver(host, port, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    try:
        good = _send(f"https://hooks.machi.test:{server.port}/h", resolver=resolver)
        wrong_name = _send(f"https://other.machi.test:{server.port}/h", resolver=resolver)
        by_address = _send(f"https://127.0.0.1:{server.port}/h")
    finally:
        server.close()
    assert good.ok
    assert server.hits[0]["host"] == f"hooks.machi.test:{server.port}"
    # The certificate names hooks.machi.test only: any other name, or the bare address,
    # fails verification (the pinned address does not replace the name in the check).
    assert wrong_name.error == by_address.error == CONNECTION_FAILED
    assert len(server.hits) == 1
