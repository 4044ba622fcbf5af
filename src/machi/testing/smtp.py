"""A real SMTP server for tests (aiosmtpd on loopback) and a fixture that sends
Django's mail to it.

Tests that check mail use ``smtp_server``: mail goes out through Django's SMTP backend
over a real socket, and ``smtp_server.messages`` holds what the server received,
parsed with the standard library (``email.message.EmailMessage``), in arrival order.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class SmtpServer:
    host: str
    port: int
    received: list[ReceivedMail] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def messages(self) -> list[EmailMessage]:
        return [mail.message for mail in self.received]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """Blocks until ``count`` messages arrived (mail sent on commit or by a worker
        may land a moment after the call that caused it); fails the test otherwise."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.received) >= count, timeout):
                pytest.fail(f"SMTP server received {len(self.received)} messages, not {count}")
        return self.messages

    def clear(self) -> None:
        with self._arrived:
            self.received.clear()


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, smtp, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.server._arrived:
            self.server.received.append(
                ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message)
            )
            self.server._arrived.notify_all()
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """Starts an SMTP server on a free loopback port for one test and points Django's
    mail settings at it."""
    server = SmtpServer(host="127.0.0.1", port=_free_port())
    # aiosmtpd's controller checks the server by connecting to its port: a fixed one.
    controller = Controller(_Handler(server), hostname=server.host, port=server.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield server
    finally:
        controller.stop()
