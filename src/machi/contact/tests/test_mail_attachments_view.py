"""The agent's view of a ticket's mails: each mail's state (received, sent, pending with
its last error and next attempt) and the received attachments, downloaded only (never
shown inline), by staff who may work tickets here, audited; the quarantine in the nav."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

import pytest
import time_machine

from machi.audit.models import AuditEntry
from machi.contact.mail.receive import mail_receive
from machi.contact.models import MailAttachment, MailMessage, MailStatus, Ticket
from machi.contact.services.tickets import ticket_reply
from machi.tenancy.context import current_tenant_alias, tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

RESIDENT = "hanako@example.jp"
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body><script>alert('x')</script>HTML-CONTENT</body></html>"
NOW = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)  # 10:00 JST, a Monday


@pytest.fixture(autouse=True)
def mail_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MACHI_CONTACT_MAIL_FROM = "contact@city.example.jp"
    # nothing listens on port 9: every mail machi sends stays pending with its error
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", 9, False
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def agent(in_a, make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "counter_clerk"))


def resident_mail(*, message_id: str, files=((PDF, "../書類/地図.pdf"), (HTML, "page.html"))):
    message = EmailMessage()
    message["From"] = f"山田 花子 <{RESIDENT}>"
    message["To"] = "contact@city.example.jp"
    message["Subject"] = "粗大ごみについて"
    message["Message-ID"] = message_id
    message.set_content("写真と地図を添付します。")
    for content, name in files:
        message.add_attachment(
            content, maintype="application", subtype="octet-stream", filename=name
        )
    return message.as_bytes()


def received(message_id: str = "<a1@mail.example.jp>", **kwargs) -> Ticket:
    result = mail_receive(raw=resident_mail(message_id=message_id, **kwargs), source="pipe")
    assert result.outcome == "created"
    return result.ticket


def url(ticket_pk: int, pk: int, lg: str = "131016") -> str:
    return f"/{lg}/contact/tickets/{ticket_pk}/attachments/{pk}/"


def downloads() -> int:
    return AuditEntry.objects.filter(action="contact.mail.attachment_downloaded").count()


def test_ticket_page_shows_mails_states_and_attachments(
    agent, signed_in, django_capture_on_commit_callbacks
):
    alias = current_tenant_alias()
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks(using=alias, execute=True):
            ticket = received()  # its acknowledgement fails to go out: pending
        with django_capture_on_commit_callbacks(using=alias, execute=True):
            reply = ticket_reply(ticket=ticket, body="回答です。", actor=agent)
    pending = MailMessage.objects.get(article=reply)
    assert pending.status == MailStatus.PENDING and pending.attempts == 1 and pending.last_error
    ack = MailMessage.objects.get(acknowledgement=True)
    MailMessage.objects.filter(pk=ack.pk).update(status=MailStatus.SENT, sent_at=NOW)

    page = signed_in(agent).get(f"/131016/contact/tickets/{ticket.pk}/").content.decode()
    assert "メールで受信（令和8年12月7日 10:00）" in page
    assert "メール送信待ち" in page and "1 回失敗" in page
    assert pending.last_error in page
    next_at = "令和8年12月7日 10:01"  # the first retry, a minute later
    assert f"次の送信: {next_at}" in page
    assert "自動応答（受付のお知らせ）" in page
    assert "メールで送信済み（令和8年12月7日 10:00）" in page
    pdf = MailAttachment.objects.get(filename="地図.pdf")
    html = MailAttachment.objects.get(filename="page.html")
    assert f'href="{url(ticket.pk, pdf.pk)}" download>地図.pdf</a>' in page
    assert f'href="{url(ticket.pk, html.pk)}" download>page.html</a>' in page
    assert f"application/pdf、{len(PDF)}\xa0バイト" in page
    assert f"{html.content_type}、{len(HTML)}\xa0バイト" in page
    assert "HTML-CONTENT" not in page and "alert(" not in page  # never inline
    assert "../" not in page.split("添付ファイル", 1)[1].split("</ul>", 1)[0]


def test_download_is_an_audited_attachment_never_inline(agent, signed_in):
    ticket = received()
    html = MailAttachment.objects.get(filename="page.html")
    response = signed_in(agent).get(url(ticket.pk, html.pk), HTTP_USER_AGENT="Firefox")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == HTML
    # the type read from the bytes when it arrived, not the sender's word
    assert response["Content-Type"] == html.content_type != "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="page.html"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]

    entry = AuditEntry.objects.get(action="contact.mail.attachment_downloaded")
    assert entry.actor_id == agent.pk and entry.object_id == str(html.pk)
    assert entry.object_type == "contact_mail_attachment" and entry.user_agent == "Firefox"
    assert entry.detail == {"ticket": ticket.number, "content_type": html.content_type,
                            "size": len(HTML)}  # fmt: skip
    # no personal data: neither the sender's address, name, nor the file's name
    recorded = str(entry.detail) + entry.purpose + entry.function
    for personal in (RESIDENT, "山田", "page.html", "地図"):
        assert personal not in recorded

    pdf = MailAttachment.objects.get(filename="地図.pdf")
    response = signed_in(agent).get(url(ticket.pk, pdf.pk))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''%E5%9C%B0%E5%9B%B3.pdf"
    assert b"".join(response.streaming_content) == PDF
    assert downloads() == 2


def test_download_needs_a_working_role_here(agent, signed_in, make_staff, municipality_a,
                                            municipality_b):  # fmt: skip
    ticket = received()
    pdf = MailAttachment.objects.get(filename="地図.pdf")
    admin = make_staff(municipality_a, ("shimin", "municipality_admin"))
    assert signed_in(admin).get(url(ticket.pk, pdf.pk)).status_code == 403
    other = make_staff(municipality_b, ("shimin", "counter_clerk"))
    assert signed_in(other).get(url(ticket.pk, pdf.pk)).status_code in (403, 404)
    assert signed_in(agent).post(url(ticket.pk, pdf.pk)).status_code == 405
    assert downloads() == 0


def test_another_tickets_or_municipalitys_attachment_is_not_found(
    agent, signed_in, make_staff, municipality_b
):
    mine = received()
    pdf = MailAttachment.objects.get(filename="地図.pdf")
    other_ticket = received("<a2@mail.example.jp>", files=((PDF, "別.pdf"),))
    theirs = MailAttachment.objects.get(filename="別.pdf")
    held_by_a = set(MailAttachment.objects.values_list("pk", flat=True))
    # Sequences are not rolled back between tests (PostgreSQL): receive in B until its
    # attachment has an id that A does not hold (A holds two, so a few rounds at most).
    with tenant_context("271403"):
        for n in range(len(held_by_a) + 2):
            sakai = received(f"<s{n}@mail.example.jp>", files=((PDF, "堺.pdf"),))
            sakai_pk = MailAttachment.objects.order_by("pk").last().pk
            if sakai_pk not in held_by_a:
                break
    assert not MailAttachment.objects.filter(pk=sakai_pk).exists()
    client = signed_in(agent)
    assert client.get(url(other_ticket.pk, pdf.pk)).status_code == 404
    assert client.get(url(mine.pk, theirs.pk)).status_code == 404
    assert client.get(url(mine.pk, sakai_pk)).status_code == 404
    assert client.get(url(sakai.pk, sakai_pk)).status_code == 404
    assert client.get(url(sakai.pk, sakai_pk, lg="271403")).status_code in (403, 404)
    assert client.get(url(mine.pk, 999_999)).status_code == 404
    assert downloads() == 0
    sakai_staff = make_staff(municipality_b, ("shimin", "counter_clerk"))
    with tenant_context("271403"):
        assert signed_in(sakai_staff).get(url(sakai.pk, sakai_pk, lg="271403")).status_code == 200
        assert downloads() == 1
    assert downloads() == 0


def test_a_file_gone_from_storage_is_not_found_and_not_audited(agent, signed_in):
    ticket = received()
    pdf = MailAttachment.objects.get(filename="地図.pdf")
    pdf.file.storage.delete(pdf.file.name)
    assert signed_in(agent).get(url(ticket.pk, pdf.pk)).status_code == 404
    assert downloads() == 0


def test_nav_links_the_quarantine_with_its_count(agent, signed_in, make_staff, municipality_a):
    for n in range(2):
        assert mail_receive(raw=f"Subject: {n}\r\n\r\nno sender".encode(), source="pipe").quarantine
    page = signed_in(agent).get("/131016/contact/tickets/").content.decode()
    assert 'href="/131016/contact/mail/quarantine/"' in page and "（2 件）" in page
    # an administrator on the FAQ pages may not open the quarantine: no link
    admin = make_staff(municipality_a, ("shimin", "municipality_admin"))
    faq = signed_in(admin).get("/131016/contact/faq/")
    assert faq.status_code == 200
    assert "/contact/mail/quarantine/" not in faq.content.decode()
