"""Delivery status notifications (RFC 3464) for the contact center's replies, built
with ``email`` and sent through the pipe command: matched to the reply they bounce
(by its Message-ID or X-Machi-Reference in the returned headers), recorded on the
ticket as 「返信が届きませんでした」 with the status code, never a new ticket; reports
for other mail or only delayed are dropped; auto-replies still do not loop."""

from __future__ import annotations

from email.message import EmailMessage, Message
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import make_msgid

import pytest
from django.urls import reverse

from machi.audit.models import AuditEntry
from machi.contact.models import MailDirection, MailMessage, MailStatus, Ticket, TicketState
from machi.contact.services.tickets import ticket_reply
from machi.contact.tests.test_mail_roundtrip import pipe, resident_mail
from machi.tenancy.context import current_tenant_alias

pytestmark = pytest.mark.django_db(databases="__all__")
RESIDENT = "hanako@example.jp"


@pytest.fixture(autouse=True)
def mail_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MACHI_CONTACT_MAIL_FROM = "contact@city.example.jp"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def agent(in_a, make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "counter_clerk"))


@pytest.fixture
def replied(agent, smtp_server, django_capture_on_commit_callbacks):
    """A mail ticket answered by an agent: the reply as the SMTP server got it."""
    with django_capture_on_commit_callbacks(using=current_tenant_alias(), execute=True):
        assert pipe(resident_mail())[0] == 0
        ticket = Ticket.objects.get()
        ticket_reply(ticket=ticket, body="毎週月曜日です。", actor=agent,
                     state=TicketState.RESOLVED)  # fmt: skip
    reply = smtp_server.wait_for(2)[1]
    assert reply["X-Machi-Reference"] == reply["Message-ID"]
    return ticket, reply


def dsn(returned: EmailMessage, *, status="5.1.1", action="failed", whole=False,
        drop_message_id=False) -> bytes:  # fmt: skip
    """A report as Postfix writes one: human part, delivery-status, returned headers."""
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "Mail Delivery System <MAILER-DAEMON@mx.example.jp>"
    report["To"] = "contact@city.example.jp"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Message-ID"] = make_msgid(domain="mx.example.jp")
    report["Auto-Submitted"] = "auto-replied"
    report.attach(MIMEText("This is the mail system at host mx.example.jp.\n"))
    per_message, per_recipient = Message(), Message()
    per_message["Reporting-MTA"] = "dns; mx.example.jp"
    per_recipient["Final-Recipient"] = f"rfc822; {RESIDENT}"
    per_recipient["Action"] = action
    per_recipient["Status"] = status
    per_recipient["Diagnostic-Code"] = f"smtp; 550 {status} <{RESIDENT}>: address rejected"
    fields = Message()
    fields["Content-Type"] = "message/delivery-status"
    fields.set_payload([per_message, per_recipient])
    report.attach(fields)
    original = EmailMessage()
    for name, value in returned.items():
        if not (drop_message_id and name.lower() == "message-id"):
            original[name] = value
    if whole:
        original.set_content(returned.get_content())
        report.attach(MIMEMessage(original))
    else:
        headers = "".join(f"{name}: {value}\n" for name, value in original.items())
        report.attach(MIMEText(headers, "rfc822-headers"))
    return report.as_bytes()


@pytest.mark.parametrize(
    ("whole", "drop_message_id"),
    [(False, False), (True, False), (False, True)],
    ids=["rfc822-headers", "message-rfc822", "reference-only"],
)
def test_a_bounced_reply_is_recorded_on_its_ticket(agent, replied, signed_in, whole,
                                                   drop_message_id):  # fmt: skip
    ticket, reply = replied
    code, out = pipe(dsn(reply, whole=whole, drop_message_id=drop_message_id))
    assert (code, out.strip()) == (0, f"bounce {ticket.number}")
    assert Ticket.objects.count() == 1  # no new ticket
    sent = MailMessage.objects.get(direction=MailDirection.OUTBOUND, acknowledgement=False)
    assert (sent.status, sent.bounce_status) == (MailStatus.BOUNCED, "5.1.1")
    assert sent.bounced_at is not None
    event = ticket.events.get(action="mail_bounced")
    assert event.to_value == "5.1.1" and RESIDENT not in event.reason
    ticket.refresh_from_db()
    assert ticket.state == TicketState.RESOLVED  # the answer stands; the agent phones
    assert ticket.articles.count() == 2  # the report is no message of the resident
    entry = AuditEntry.objects.get(action="contact.ticket.mail_bounced")
    assert entry.object_id == ticket.number and entry.detail["status"] == "5.1.1"
    page = signed_in(agent).get(reverse("contact:ticket", args=["131016", ticket.pk]))
    html = page.content.decode()
    assert "返信が届きませんでした" in html and "5.1.1" in html
    # the same report again (or from another hop): recorded once
    assert pipe(dsn(reply, whole=whole))[1].strip() == f"bounce {ticket.number}"
    assert ticket.events.filter(action="mail_bounced").count() == 1


def test_reports_for_other_mail_or_only_delayed_are_dropped(agent, replied):
    ticket, reply = replied
    stranger = EmailMessage()
    stranger["From"] = "contact@city.example.jp"
    stranger["To"] = RESIDENT
    stranger["Subject"] = "別のメール"
    stranger["Message-ID"] = "<not-ours@elsewhere.example.jp>"
    stranger.set_content("x")
    assert pipe(dsn(stranger))[1].strip() == "bounce"
    assert pipe(dsn(reply, status="4.4.1", action="delayed"))[1].strip() == "bounce"
    assert Ticket.objects.count() == 1
    assert not ticket.events.filter(action="mail_bounced").exists()
    assert not MailMessage.objects.filter(status=MailStatus.BOUNCED).exists()


def test_a_malformed_report_is_dropped_without_a_ticket(agent, replied):
    raw = (
        b"From: MAILER-DAEMON@mx.example.jp\r\nSubject: failure\r\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=zz\r\n\r\n"
        b"--zz\r\nContent-Type: message/delivery-status\r\n\r\nStatus: nonsense\r\n"
        b"--zz\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <<<>>>\r\n--zz--\r\n"
    )
    assert pipe(raw)[1].strip() == "bounce"
    assert Ticket.objects.count() == 1
    assert not MailMessage.objects.filter(status=MailStatus.BOUNCED).exists()


@pytest.mark.parametrize(
    "header", [("Auto-Submitted", "auto-replied"), ("X-Autoreply", "yes"),
               ("Precedence", "auto_reply")],
)  # fmt: skip
def test_an_auto_reply_to_the_reply_does_not_loop(agent, replied, smtp_server, header,
                                                  django_capture_on_commit_callbacks):  # fmt: skip
    ticket, reply = replied
    away = EmailMessage()
    away["From"] = RESIDENT
    away["To"] = "contact@city.example.jp"
    away["Subject"] = "自動応答: " + str(reply["Subject"])
    away["Message-ID"] = "<away@mail.example.jp>"
    away["In-Reply-To"] = reply["Message-ID"]
    away[header[0]] = header[1]
    away.set_content("ただいま不在です。")
    with django_capture_on_commit_callbacks(using=current_tenant_alias(), execute=True):
        code, out = pipe(away.as_bytes())
    assert (code, out.strip()) == (0, f"added {ticket.number}")
    assert Ticket.objects.count() == 1
    assert MailMessage.objects.filter(direction=MailDirection.OUTBOUND).count() == 2
    assert len(smtp_server.messages) == 2  # nothing answered the auto-reply
