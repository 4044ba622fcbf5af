"""The mail channel end to end through a real SMTP server (aiosmtpd): a resident's mail
arrives by the pipe command and by the gateway endpoint, the agent replies, the reply
goes out threaded, the resident's answer to it threads back into the same ticket; the
acknowledgement; SMTP down → the reply waits and is delivered later; tokens."""

from __future__ import annotations

import datetime as dt
import io
import sys
from email.message import EmailMessage

import pytest
import time_machine
from django.core.management import call_command

from machi.apiclients.services import apiclient_create
from machi.contact.mail.send import mail_send_due
from machi.contact.models import (
    Channel,
    MailAttachment,
    MailDirection,
    MailMessage,
    MailStatus,
    Ticket,
    TicketState,
)
from machi.contact.services.tickets import ticket_reply
from machi.tenancy.context import current_tenant_alias, tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

RESIDENT = "hanako@example.jp"
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def mail_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MACHI_CONTACT_MAIL_FROM = "contact@city.example.jp"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def agent(in_a, make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "counter_clerk"))


def resident_mail(*, subject="ごみの収集日について", body="燃えるごみの収集日を教えてください。",
                  message_id="<q1@mail.example.jp>", attachment: bytes | None = None,
                  **headers) -> bytes:  # fmt: skip
    message = EmailMessage()
    message["From"] = f"山田 花子 <{RESIDENT}>"
    message["To"] = "contact@city.example.jp"
    message["Subject"] = subject
    message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    if attachment is not None:
        message.add_attachment(
            attachment, maintype="application", subtype="octet-stream", filename="../../地図.pdf"
        )
    return message.as_bytes()


def pipe(raw: bytes, tenant: str = "131016") -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(raw))
    try:
        call_command("contact", "mail-in", "--tenant", tenant, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    finally:
        sys.stdin = stdin
    return code, out.getvalue()


def reply_to(received: EmailMessage, body: str) -> bytes:
    """The resident's mail program answering machi's mail."""
    message = EmailMessage()
    message["From"] = RESIDENT
    message["To"] = received["From"]
    message["Subject"] = "Re: " + str(received["Subject"])
    message["Message-ID"] = "<q2@mail.example.jp>"
    message["In-Reply-To"] = received["Message-ID"]
    message["References"] = f"{received.get('References', '')} {received['Message-ID']}".strip()
    message.set_content(body)
    return message.as_bytes()


def test_round_trip_by_pipe(agent, smtp_server, django_capture_on_commit_callbacks):
    alias = current_tenant_alias()
    with django_capture_on_commit_callbacks(using=alias, execute=True):
        code, out = pipe(resident_mail(attachment=PDF))
    assert code == 0 and out.startswith("created ")
    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.MAIL and ticket.contact_email == RESIDENT
    assert ticket.subject == "ごみの収集日について"
    attachment = MailAttachment.objects.get()
    assert attachment.filename == "地図.pdf" and attachment.content_type == "application/pdf"
    assert "地図" not in attachment.file.name and attachment.file.name.startswith("contact/131016/")
    assert attachment.file.read() == PDF

    ack = smtp_server.wait_for(1)[0]  # the acknowledgement, once
    assert ack["Auto-Submitted"] == "auto-replied"
    assert f"[#C-{ticket.number}]" in ack["Subject"]
    assert ack["In-Reply-To"] == "<q1@mail.example.jp>"

    with django_capture_on_commit_callbacks(using=alias, execute=True):
        ticket_reply(ticket=ticket, body="毎週月曜日と木曜日です。", actor=agent,
                     state=TicketState.PENDING_CUSTOMER)  # fmt: skip
    reply = smtp_server.wait_for(2)[1]
    assert reply["Auto-Submitted"] is None
    assert reply["To"] == RESIDENT
    assert f"[#C-{ticket.number}]" in reply["Subject"]
    assert reply["In-Reply-To"] == "<q1@mail.example.jp>"
    assert "<q1@mail.example.jp>" in reply["References"]
    assert "毎週月曜日と木曜日です。" in reply.get_content()
    sent = MailMessage.objects.get(direction=MailDirection.OUTBOUND, acknowledgement=False)
    assert reply["Message-ID"] == f"<{sent.message_id}>" and sent.status == MailStatus.SENT

    with django_capture_on_commit_callbacks(using=alias, execute=True):
        code, out = pipe(reply_to(reply, "ありがとうございます。粗大ごみは？"))
    assert (code, out.strip()) == (0, f"added {ticket.number}")
    ticket.refresh_from_db()
    assert ticket.state == TicketState.OPEN  # the resident answered: the clock runs again
    assert ticket.articles.count() == 3
    assert Ticket.objects.count() == 1
    assert len(smtp_server.messages) == 2  # no second acknowledgement


def test_gateway_endpoint(in_a, client, smtp_server, django_capture_on_commit_callbacks):
    token = apiclient_create(name="mail gateway", scopes=["contact:mail"]).token
    url = "/131016/contact/mail/inbound/"
    with django_capture_on_commit_callbacks(using=current_tenant_alias(), execute=True):
        response = client.post(url, data=resident_mail(), content_type="message/rfc822",
                               HTTP_AUTHORIZATION=f"Bearer {token}")  # fmt: skip
    assert response.status_code == 202, response.content
    ticket = Ticket.objects.get()
    assert response.json() == {"outcome": "created", "ticket": ticket.number, "quarantine": None}
    smtp_server.wait_for(1)
    # the gateway posts the same mail again (a retry): nothing doubles
    again = client.post(url, data=resident_mail(), content_type="message/rfc822",
                        HTTP_AUTHORIZATION=f"Bearer {token}")  # fmt: skip
    assert again.json()["outcome"] == "duplicate"
    assert Ticket.objects.count() == 1


def test_gateway_refuses_missing_wrong_scope_and_other_tenant(in_a, client):
    url = "/131016/contact/mail/inbound/"
    wrong_scope = apiclient_create(name="open311", scopes=["requests:write"]).token
    with tenant_context("271403"):
        other = apiclient_create(name="sakai gateway", scopes=["contact:mail"]).token
    raw = resident_mail()
    assert client.post(url, data=raw, content_type="message/rfc822").status_code == 401
    for token, status in ((wrong_scope, 403), (other, 401), ("machi_nonsense", 401)):
        response = client.post(url, data=raw, content_type="message/rfc822",
                               HTTP_AUTHORIZATION=f"Bearer {token}")  # fmt: skip
        assert response.status_code == status
    assert client.get(url).status_code == 405
    assert not Ticket.objects.exists()
    with tenant_context("271403"):
        assert not Ticket.objects.exists()


def test_pipe_unknown_tenant_is_nouser(in_a):
    code, _out = pipe(resident_mail(), tenant="999999")
    assert code == 67
    assert not Ticket.objects.exists()


def test_smtp_down_reply_is_retried_and_delivered(agent, settings, smtp_server,
                                                  django_capture_on_commit_callbacks):  # fmt: skip
    alias = current_tenant_alias()
    with django_capture_on_commit_callbacks(using=alias, execute=True):
        pipe(resident_mail(Auto_Submitted="no"))
    smtp_server.wait_for(1)
    ticket = Ticket.objects.get()
    port = settings.EMAIL_PORT
    settings.EMAIL_PORT = 9  # nothing listens: connection refused
    with time_machine.travel(dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC), tick=False):
        with django_capture_on_commit_callbacks(using=alias, execute=True):
            article = ticket_reply(ticket=ticket, body="回答です。", actor=agent)
        mail = MailMessage.objects.get(article=article)
        assert mail.status == MailStatus.PENDING and mail.attempts == 1
        assert mail.last_error and RESIDENT not in mail.last_error
        assert mail_send_due() == {"due": 0, "sent": 0}  # not before its next attempt
    settings.EMAIL_PORT = port
    with time_machine.travel(dt.datetime(2026, 12, 7, 10, 5, tzinfo=dt.UTC), tick=False):
        assert mail_send_due() == {"due": 1, "sent": 1}
    mail.refresh_from_db()
    assert mail.status == MailStatus.SENT and mail.attempts == 2
    delivered = smtp_server.wait_for(2)[1]
    assert delivered["Message-ID"] == f"<{mail.message_id}>"
    assert "回答です。" in delivered.get_content()
