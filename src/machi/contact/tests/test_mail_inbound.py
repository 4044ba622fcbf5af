"""Received mail that is not a plain question: malformed, huge, nested, auto-replies,
bounces, spoofed senders, floods; the quarantine list, its release and discard (audited),
and who may use it."""

from __future__ import annotations

import base64
import email
import email.policy
from email.message import EmailMessage

import pytest

from machi.audit.models import AuditEntry
from machi.contact.mail.quarantine import quarantine_discard, quarantine_release
from machi.contact.mail.receive import mail_receive
from machi.contact.models import (
    MailAttachment,
    MailDirection,
    MailMessage,
    QuarantinedMail,
    QuarantineReason,
    QuarantineStatus,
    Ticket,
)
from machi.contact.services.tickets import TicketError
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture(autouse=True)
def mail_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MACHI_CONTACT_MAIL_AUTHSERV_ID = "mx.city.example.jp"


@pytest.fixture
def agent(in_a, make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "counter_clerk"))


def mail(body="質問です。", sender="taro@example.jp", **headers) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "contact@city.example.jp"
    message["Subject"] = headers.pop("Subject", "質問")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def with_attachment(size: int) -> bytes:
    message = EmailMessage()
    message["From"] = "taro@example.jp"
    message["Subject"] = "写真"
    message["Message-ID"] = f"<big{size}@example.jp>"
    message.set_content("添付します。")
    message.add_attachment(b"\x89PNG\r\n\x1a\n" + b"\0" * size, maintype="image",
                           subtype="png", filename="photo.png")  # fmt: skip
    return message.as_bytes()


def nested() -> bytes:
    inner = EmailMessage()
    inner["From"] = "other@example.jp"
    inner["Subject"] = "転送元"
    inner.set_content("転送されたメール")
    outer = EmailMessage()
    outer["From"] = "taro@example.jp"
    outer["Subject"] = "転送します"
    outer.set_content("下のメールについて。")
    outer.add_attachment(inner)
    return outer.as_bytes()


UNKNOWN_CHARSET = (
    b"From: taro@example.jp\r\nSubject: =?x-unknown?B?gqCCog==?=\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=x-unknown-8\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n"
    + base64.b64encode("住民票について".encode("cp932"))
    + b"\r\n"
)
BROKEN_MIME = (
    b"From: taro@example.jp\r\nSubject: broken\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="never-closed"\r\n\r\n'
    b"--never-closed\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n"
)


@pytest.mark.parametrize(
    ("raw", "outcome", "reason"),
    [
        (b"", "quarantined", QuarantineReason.UNPARSEABLE),
        (b"just some text without any header line\r\n", "quarantined", None),
        (b"\r\n\r\nbody only, no headers", "quarantined", QuarantineReason.UNPARSEABLE),
        (b"Subject: no sender\r\n\r\nhello", "quarantined", QuarantineReason.NO_SENDER),
        (b"From: nobody\r\nSubject: x\r\n\r\nhi", "quarantined", QuarantineReason.NO_SENDER),
        (b"From: x@y\r\nSubject: s\r\n\r\nhi", "quarantined", QuarantineReason.REJECTED),
        (UNKNOWN_CHARSET, "created", None),
        (BROKEN_MIME, "created", None),
        (b"From: taro@example.jp\r\n\r\n", "created", None),  # no subject, no body
        (b"From: taro@example.jp\r\nSubject: \xff\xfe\x80 bad\r\n\r\n\xff\xfe", "created", None),
        (nested(), "created", None),
    ],
    ids=["empty", "no-headers", "blank-headers", "no-sender", "bad-sender", "invalid-address",
         "unknown-charset",
         "broken-mime", "nothing-but-from", "raw-8bit", "nested-rfc822"],
)  # fmt: skip
def test_malformed_mail_never_crashes(in_a, raw, outcome, reason):
    result = mail_receive(raw=raw, source="pipe")
    assert result.outcome == outcome
    if outcome == "quarantined":
        entry = QuarantinedMail.objects.get()
        assert entry.raw.read() == raw[: len(raw)] and entry.status == QuarantineStatus.HELD
        if reason:
            assert entry.reason == reason
        assert not Ticket.objects.exists()
    else:
        ticket = Ticket.objects.get()
        assert ticket.subject and ticket.articles.get().body


def test_unknown_charset_is_read_anyway(in_a):
    mail_receive(raw=UNKNOWN_CHARSET, source="pipe")
    assert "住民票について" in Ticket.objects.get().articles.get().body


def test_nested_message_is_kept_whole(in_a):
    mail_receive(raw=nested(), source="pipe")
    attachment = MailAttachment.objects.get()
    assert attachment.filename.endswith(".eml")
    kept = email.message_from_bytes(attachment.file.read(), policy=email.policy.default)
    assert kept["Subject"] == "転送元" and "転送されたメール" in kept.get_content()
    assert "下のメールについて" in Ticket.objects.get().articles.get().body


def test_30_mb_attachment_quarantines_the_message(in_a):
    raw = with_attachment(30 * 1024 * 1024)
    result = mail_receive(raw=raw, source="http")
    entry = result.quarantine
    assert entry.reason == QuarantineReason.TOO_LARGE and entry.truncated
    assert entry.raw_size == len(raw)
    assert not Ticket.objects.exists()


def test_attachment_over_its_limit_is_left_out(in_a, settings):
    settings.MACHI_CONTACT_MAIL_MAX_ATTACHMENT_BYTES = 1024 * 1024
    result = mail_receive(raw=with_attachment(2 * 1024 * 1024), source="pipe")
    assert result.outcome == "created"
    assert not MailAttachment.objects.exists()
    assert "photo.png" in result.ticket.articles.get().body


@pytest.mark.parametrize(
    "headers",
    [{"Auto_Submitted": "auto-replied"}, {"Precedence": "bulk"}, {"Precedence": "junk"},
     {"X_Autoreply": "yes"}, {"List_Id": "<news.example.jp>"}],
)  # fmt: skip
def test_auto_replies_are_kept_but_never_answered(in_a, headers):
    result = mail_receive(raw=mail(Message_ID="<auto@example.jp>", **headers), source="pipe")
    assert result.outcome == "created"
    inbound = MailMessage.objects.get()
    assert inbound.auto_submitted
    assert not MailMessage.objects.filter(direction=MailDirection.OUTBOUND).exists()


def test_a_person_gets_one_acknowledgement(in_a):
    mail_receive(raw=mail(Message_ID="<p1@example.jp>"), source="pipe")
    assert MailMessage.objects.filter(acknowledgement=True).count() == 1


@pytest.mark.parametrize(
    "raw",
    [
        mail(sender="MAILER-DAEMON@mx.example.jp", Subject="Undelivered Mail"),
        mail(sender="postmaster@example.jp"),
        mail(Return_Path="<>"),
        b"From: mx@example.jp\r\nContent-Type: multipart/report; report-type=delivery-status;"
        b' boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b--\r\n',
    ],
    ids=["mailer-daemon", "postmaster", "null-return-path", "dsn"],
)
def test_bounces_are_dropped(in_a, raw):
    assert mail_receive(raw=raw, source="pipe").outcome == "bounce"
    assert not Ticket.objects.exists() and not MailMessage.objects.exists()


@pytest.mark.parametrize(
    ("results", "spoofed"),
    [
        ("mx.city.example.jp; dmarc=fail (p=reject) header.from=example.jp", True),
        ("mx.city.example.jp; spf=fail smtp.mailfrom=example.jp; dmarc=none", True),
        ("mx.city.example.jp; spf=pass; dmarc=pass header.from=example.jp", False),
        # another host's verdict is anyone's writing: ignored
        ("evil.example.net; dmarc=pass", False),
    ],
)
def test_spoofed_senders_are_quarantined(in_a, results, spoofed):
    raw = mail(Authentication_Results=results, Message_ID="<s@example.jp>")
    result = mail_receive(raw=raw, source="pipe")
    assert (result.outcome == "quarantined") is spoofed
    if spoofed:
        assert result.quarantine.reason == QuarantineReason.SPOOFED


def test_untrusted_pass_does_not_hide_trusted_fail(in_a):
    raw = mail(Message_ID="<s2@example.jp>")
    raw = (b"Authentication-Results: mx.city.example.jp; dmarc=fail\r\n"
           b"Authentication-Results: evil.example.net; dmarc=pass\r\n" + raw)  # fmt: skip
    assert mail_receive(raw=raw, source="pipe").outcome == "quarantined"


def test_flood_from_one_sender_is_quarantined(in_a, settings):
    settings.MACHI_CONTACT_MAIL_PER_SENDER_PER_HOUR = 3
    outcomes = [
        mail_receive(raw=mail(Message_ID=f"<f{i}@example.jp>"), source="pipe").outcome
        for i in range(5)
    ]
    assert outcomes == ["created"] * 3 + ["quarantined"] * 2
    assert QuarantinedMail.objects.filter(reason=QuarantineReason.RATE_LIMITED).count() == 2
    other = mail(sender="jiro@example.jp", Message_ID="<j@example.jp>")
    assert mail_receive(raw=other, source="pipe").outcome == "created"


def test_subject_number_threads_only_from_the_tickets_own_address(in_a):
    first = mail_receive(raw=mail(Message_ID="<t1@example.jp>"), source="pipe").ticket
    tag = f"[#C-{first.number}]"
    same = mail_receive(raw=mail(Subject=f"Re: 質問 {tag}", Message_ID="<t2@example.jp>"),
                        source="pipe")  # fmt: skip
    assert same.outcome == "added" and same.ticket == first
    stranger = mail(sender="eve@example.net", Subject=f"Re: {tag}", Message_ID="<t3@example.jp>")
    assert mail_receive(raw=stranger, source="pipe").ticket != first


def test_quarantine_release_and_discard_are_audited(agent):
    spoofed = mail(Authentication_Results="mx.city.example.jp; dmarc=fail",
                   Message_ID="<r1@example.jp>")  # fmt: skip
    entry = mail_receive(raw=spoofed, source="pipe").quarantine
    released = quarantine_release(entry=entry, actor=agent)
    assert released.status == QuarantineStatus.RELEASED and released.ticket is not None
    assert released.resolved_by_username == agent.username
    audit = AuditEntry.objects.get(action="contact.mail.quarantine_released")
    assert audit.object_id == str(entry.pk) and audit.actor_username == agent.username
    with pytest.raises(TicketError):
        quarantine_release(entry=entry, actor=agent)  # only once

    junk = mail_receive(raw=b"Subject: x\r\n\r\n", source="pipe").quarantine
    with pytest.raises(TicketError):  # nothing to make a ticket of
        quarantine_release(entry=junk, actor=agent)
    quarantine_discard(entry=junk, actor=agent)
    junk.refresh_from_db()
    assert junk.status == QuarantineStatus.DISCARDED
    assert AuditEntry.objects.filter(action="contact.mail.quarantine_discarded").count() == 1


def test_quarantine_pages(agent, signed_in, make_staff, municipality_a, municipality_b):
    entry = mail_receive(
        raw=b"Subject: only this\r\nX-Trace: 1\r\n\r\nPRIVATE-BODY", source="pipe"
    ).quarantine
    client = signed_in(agent)
    listing = client.get("/131016/contact/mail/quarantine/")
    assert listing.status_code == 200 and "差出人が不明" in listing.content.decode()
    detail = client.get(f"/131016/contact/mail/quarantine/{entry.pk}/")
    page = detail.content.decode()
    assert "X-Trace" in page and "PRIVATE-BODY" not in page  # headers only
    response = client.post(f"/131016/contact/mail/quarantine/{entry.pk}/discard/")
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.status == QuarantineStatus.DISCARDED

    admin = make_staff(municipality_a, ("shimin", "municipality_admin"))
    assert signed_in(admin).get("/131016/contact/mail/quarantine/").status_code == 403
    other = make_staff(municipality_b, ("shimin", "counter_clerk"))
    assert signed_in(other).get(f"/131016/contact/mail/quarantine/{entry.pk}/").status_code in (
        403,
        404,
    )
    with tenant_context("271403"):
        assert not QuarantinedMail.objects.exists()
    assert signed_in(agent).get("/131016/contact/mail/quarantine/99999/").status_code == 404
