"""When the tenant database cannot take a mail, the pipe command exits 75 (EX_TEMPFAIL)
and the endpoint answers 503 with Retry-After, so that the MTA or the gateway keeps the
mail and tries again; nothing of the mail is left behind (no ticket, no message, no
Message-ID that would make the retry a "duplicate", no file), and the retry goes through.

The failure is the database's own: a trigger makes it refuse the attachment's row
(PostgreSQL: SQLSTATE 53100 disk_full) in the middle of the mail's transaction, after
the ticket and the message were written.
"""

from __future__ import annotations

import io
import sys
from email.message import EmailMessage

import pytest
from django.core.management import call_command
from django.db import connections

from machi.apiclients.services import apiclient_create
from machi.audit.models import AuditEntry
from machi.contact.models import MailAttachment, MailMessage, QuarantinedMail, Ticket
from machi.tenancy.context import current_tenant_alias

pytestmark = pytest.mark.django_db(databases="__all__")

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
TABLE = MailAttachment._meta.db_table


@pytest.fixture(autouse=True)
def mail_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MACHI_CONTACT_MAIL_FROM = "contact@city.example.jp"


def resident_mail() -> bytes:
    message = EmailMessage()
    message["From"] = "山田 花子 <hanako@example.jp>"
    message["To"] = "contact@city.example.jp"
    message["Subject"] = "粗大ごみについて"
    message["Message-ID"] = "<t1@mail.example.jp>"
    message.set_content("地図を添付します。")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="地図.pdf")
    return message.as_bytes()


def _execute(*statements: str) -> None:
    with connections[current_tenant_alias()].cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def database_refuses_attachments() -> None:
    if connections[current_tenant_alias()].vendor == "postgresql":
        _execute(
            "CREATE FUNCTION machi_test_disk_full() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'could not extend file' USING ERRCODE = '53100'; END $$",
            f"CREATE TRIGGER machi_test_disk_full BEFORE INSERT ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION machi_test_disk_full()",
        )
    else:
        _execute(
            f"CREATE TRIGGER machi_test_disk_full BEFORE INSERT ON {TABLE} "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )


def database_recovers() -> None:
    _execute(
        f"DROP TRIGGER machi_test_disk_full ON {TABLE}"
        if connections[current_tenant_alias()].vendor == "postgresql"
        else "DROP TRIGGER machi_test_disk_full"
    )


def pipe(raw: bytes) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(raw))
    try:
        call_command("contact", "mail-in", "--tenant", "131016", stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    finally:
        sys.stdin = stdin
    return code, out.getvalue(), err.getvalue()


def assert_nothing_written(media) -> None:
    assert not Ticket.objects.exists()
    assert not MailMessage.objects.exists()
    assert not MailAttachment.objects.exists()
    assert not QuarantinedMail.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="contact.").exists()
    stored = [p for p in media.rglob("*") if p.is_file()] if media.exists() else []
    assert stored == []  # not even the attachment's file


def test_pipe_exits_tempfail_and_the_retry_is_taken(in_a, settings):
    database_refuses_attachments()
    code, out, err = pipe(resident_mail())
    assert code == 75
    assert out == "" and err.startswith("temporary failure: ")
    assert "hanako" not in err and "地図" not in err
    assert_nothing_written(settings.MEDIA_ROOT)

    database_recovers()  # the MTA delivers the mail it kept
    code, out, _err = pipe(resident_mail())
    ticket = Ticket.objects.get()
    assert (code, out.strip()) == (0, f"created {ticket.number}")
    assert MailAttachment.objects.get().file.read() == PDF


def test_endpoint_answers_503_with_retry_after_and_the_retry_is_taken(in_a, client, settings):
    token = apiclient_create(name="mail gateway", scopes=["contact:mail"]).token
    post = lambda: client.post(  # noqa: E731
        "/131016/contact/mail/inbound/",
        data=resident_mail(),
        content_type="message/rfc822",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    database_refuses_attachments()
    response = post()
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "hanako" not in response.content.decode()
    assert_nothing_written(settings.MEDIA_ROOT)

    database_recovers()
    again = post()
    assert again.status_code == 202
    assert again.json()["outcome"] == "created"
    assert Ticket.objects.count() == MailAttachment.objects.count() == 1
