"""The sweep of the mail channel's files: attachment and quarantine files that no row
refers to any more are deleted.

Services delete their own files (a failed delivery, a release or discard of a
quarantined mail), but a process killed between writing a file and committing its row,
or a ticket deleted with its mails, leaves a file behind: a resident's document nobody
can find or delete. Files younger than the grace period are left alone: a delivery in
flight writes its files before its rows commit.
"""

from __future__ import annotations

import datetime
import logging

from django.core.files.storage import default_storage
from django.utils import timezone

from machi.contact.models import MailAttachment, QuarantinedMail
from machi.tenancy.context import current_lg_code

logger = logging.getLogger(__name__)

GRACE = datetime.timedelta(hours=1)
KINDS = ("attachments", "quarantine")  # the folders of machi.contact.mail.receive


def _walk(folder: str):
    """(folder, file names) for *folder* and everything below it."""
    try:
        folders, files = default_storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return
    if files:
        yield folder, files
    for name in folders:
        yield from _walk(f"{folder}/{name}")


def _referenced(names: list[str]) -> set[str]:
    return set(MailAttachment.objects.filter(file__in=names).values_list("file", flat=True)) | set(
        QuarantinedMail.objects.filter(raw__in=names).values_list("raw", flat=True)
    )


def mail_files_sweep(
    *, now: datetime.datetime | None = None, grace: datetime.timedelta = GRACE
) -> dict[str, int]:
    """Delete this municipality's mail files no row refers to (older than *grace*)."""
    now = now or timezone.now()
    checked = deleted = 0
    for kind in KINDS:
        for folder, files in _walk(f"contact/{current_lg_code()}/{kind}"):
            for start in range(0, len(files), 500):
                names = [f"{folder}/{name}" for name in files[start : start + 500]]
                checked += len(names)
                kept = _referenced(names)
                for name in names:
                    if name in kept:
                        continue
                    try:
                        if now - default_storage.get_modified_time(name) < grace:
                            continue
                        default_storage.delete(name)
                    except FileNotFoundError:  # deleted meanwhile by its service
                        continue
                    deleted += 1
    if deleted:
        logger.info("contact mail files: %s unreferenced deleted of %s", deleted, checked)
    return {"checked": checked, "deleted": deleted}
