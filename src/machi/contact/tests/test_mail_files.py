"""No orphan mail files: releasing or discarding a quarantined mail leaves on disk only
the files rows refer to (also when the release fails after the attachments were
written: a real database refusal), and the periodic sweep deletes files no row refers
to, past the grace period, in the municipality in force only."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, connections
from django.utils import timezone

from machi.contact.mail.files import mail_files_sweep
from machi.contact.mail.quarantine import quarantine_discard, quarantine_release
from machi.contact.mail.receive import mail_receive
from machi.contact.models import MailAttachment, QuarantinedMail, QuarantineStatus, Ticket
from machi.contact.tasks import contact_mail_files_sweep_task
from machi.tenancy.context import current_tenant_alias, tenant_context
from machi.tenancy.periodic import periodic_tasks

pytestmark = pytest.mark.django_db(databases="__all__")
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
LATER = dt.timedelta(hours=2)


@pytest.fixture(autouse=True)
def mail_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MACHI_CONTACT_MAIL_AUTHSERV_ID = "mx.city.example.jp"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def agent(in_a, make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "counter_clerk"))


def files_on_disk(settings) -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def referenced() -> set[str]:
    return set(MailAttachment.objects.values_list("file", flat=True)) | set(
        QuarantinedMail.objects.exclude(raw="").values_list("raw", flat=True)
    )


def spoofed_with_attachments(n=2, message_id="<q1@example.jp>") -> bytes:
    message = EmailMessage()
    message["From"] = "taro@example.jp"
    message["Subject"] = "地図"
    message["Message-ID"] = message_id
    message["Authentication-Results"] = "mx.city.example.jp; dmarc=fail"
    message.set_content("添付します。")
    for i in range(n):
        message.add_attachment(PDF, maintype="application", subtype="pdf", filename=f"{i}.pdf")
    return message.as_bytes()


def held(settings):
    before = files_on_disk(settings)
    entry = mail_receive(raw=spoofed_with_attachments(), source="pipe").quarantine
    assert entry.status == QuarantineStatus.HELD
    assert files_on_disk(settings) == before | {entry.raw.name}
    return entry


def test_release_keeps_the_attachments_and_drops_the_raw_copy(
    agent, settings, django_capture_on_commit_callbacks
):
    entry = held(settings)
    with django_capture_on_commit_callbacks(using=current_tenant_alias(), execute=True):
        quarantine_release(entry=entry, actor=agent)
    entry.refresh_from_db()
    assert entry.status == QuarantineStatus.RELEASED and entry.raw.name == ""
    assert MailAttachment.objects.count() == 2
    assert files_on_disk(settings) == referenced()
    for attachment in MailAttachment.objects.all():
        assert attachment.file.read() == PDF


def test_discard_leaves_nothing(agent, settings, django_capture_on_commit_callbacks):
    entry = held(settings)
    with django_capture_on_commit_callbacks(using=current_tenant_alias(), execute=True):
        quarantine_discard(entry=entry, actor=agent)
    entry.refresh_from_db()
    assert entry.status == QuarantineStatus.DISCARDED and entry.raw.name == ""
    assert files_on_disk(settings) == set()


def _refuse_quarantine_updates(refuse: bool) -> None:
    table = QuarantinedMail._meta.db_table
    postgres = connections[current_tenant_alias()].vendor == "postgresql"
    if refuse and postgres:
        statements = [
            "CREATE FUNCTION machi_test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'could not extend file' USING ERRCODE = '53100'; END $$",
            f"CREATE TRIGGER machi_test_refuse BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION machi_test_refuse()",
        ]
    elif refuse:
        statements = [f"CREATE TRIGGER machi_test_refuse BEFORE UPDATE ON {table} "
                      "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"]  # fmt: skip
    else:
        statements = [f"DROP TRIGGER machi_test_refuse{f' ON {table}' if postgres else ''}"]
    with connections[current_tenant_alias()].cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def test_a_release_that_fails_after_the_attachments_leaves_no_files(agent, settings):
    entry = held(settings)
    _refuse_quarantine_updates(True)
    try:
        with pytest.raises(DatabaseError):
            quarantine_release(entry=entry, actor=agent)
    finally:
        _refuse_quarantine_updates(False)
    assert not Ticket.objects.exists() and not MailAttachment.objects.exists()
    assert files_on_disk(settings) == {entry.raw.name}  # held as before
    entry.refresh_from_db()
    assert entry.status == QuarantineStatus.HELD
    quarantine_release(entry=entry, actor=agent)  # and the retry goes through
    assert MailAttachment.objects.count() == 2


def test_the_sweep_deletes_only_unreferenced_old_files(
    agent, settings, django_capture_on_commit_callbacks
):
    ticket_mail = mail_receive(raw=spoofed_with_attachments(message_id="<x@e.jp>"),
                               source="pipe")  # fmt: skip
    with django_capture_on_commit_callbacks(using=current_tenant_alias(), execute=True):
        quarantine_release(entry=ticket_mail.quarantine, actor=agent)  # 2 attachments
    entry = held(settings)  # a held raw mail
    kept = referenced()
    orphan = default_storage.save("contact/131016/attachments/2026/01/orphan", ContentFile(PDF))
    stray = default_storage.save("contact/131016/quarantine/2026/01/stray.eml", ContentFile(b"x"))
    with tenant_context("271403"):  # another municipality's file is not ours to judge
        theirs = default_storage.save("contact/271403/attachments/x", ContentFile(PDF))
    # within the grace period (a delivery may be in flight): kept
    assert mail_files_sweep()["deleted"] == 0
    assert {orphan, stray} <= files_on_disk(settings)
    result = mail_files_sweep(now=timezone.now() + LATER)
    assert result == {"checked": len(kept) + 2, "deleted": 2}
    assert files_on_disk(settings) == kept | {theirs}
    assert entry.raw.name in kept
    assert mail_files_sweep(now=timezone.now() + LATER)["deleted"] == 0  # idempotent


def test_the_sweep_runs_periodically_for_every_municipality(agent, settings, municipality_b):
    assert "machi.contact.tasks.contact_mail_files_sweep_task" in periodic_tasks()
    with tenant_context("271403"):
        default_storage.save("contact/271403/attachments/x", ContentFile(PDF))
    result = contact_mail_files_sweep_task.call()
    assert set(result) >= {"131016", "271403"}
    assert result["271403"] == {"checked": 1, "deleted": 0}  # young: kept
