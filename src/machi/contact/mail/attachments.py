"""What the agent's ticket page shows of a ticket's mails, and the download of a received
attachment.

An attachment is whatever the sender chose to send (HTML, scripts, documents with
macros): it is only ever handed out as a download, never shown in the browser, and each
download is audited by ids only (the file name may itself be personal data).
"""

from __future__ import annotations

from collections import defaultdict
from typing import IO, Any

from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import Http404
from django.utils.translation import gettext as _

from machi.audit.services import Terminal, audit_append
from machi.contact.models import MailAttachment, MailMessage, Ticket
from machi.contact.services.tickets import staff_may_work_tickets


def ticket_mails(*, ticket: Ticket) -> tuple[dict[int, list[MailMessage]], list[MailMessage]]:
    """The ticket's mails with their attachments (two queries): by the article they carry,
    and those of no article (the automatic acknowledgement)."""
    by_article: dict[int, list[MailMessage]] = defaultdict(list)
    loose: list[MailMessage] = []
    for mail in MailMessage.objects.filter(ticket=ticket).prefetch_related("attachments"):
        if mail.article_id is None:
            loose.append(mail)
        else:
            by_article[mail.article_id].append(mail)
    return dict(by_article), loose


def mail_attachment_get(*, ticket_id: int, pk: int) -> MailAttachment:
    """The attachment ``pk`` of a mail of ticket ``ticket_id``; 404 for any other."""
    attachment = (
        MailAttachment.objects.filter(pk=pk, mail__ticket_id=ticket_id)
        .select_related("mail__ticket")
        .first()
    )
    if attachment is None:
        raise Http404(_("添付ファイルが見つかりません。"))
    return attachment


def mail_attachment_download(
    *, attachment: MailAttachment, actor: Any, terminal: Terminal | None = None
) -> IO[bytes]:
    """Open the stored file for a staff member who may work tickets here, and audit it
    (``contact.mail.attachment_downloaded``) once the file is known to be there."""
    if not staff_may_work_tickets(actor):
        raise PermissionDenied(_("添付ファイルを開く役割がありません。"))
    try:
        handle = default_storage.open(attachment.file.name, "rb")
    except FileNotFoundError:
        raise Http404(_("添付ファイルが見つかりません。")) from None
    audit_append(
        action="contact.mail.attachment_downloaded",
        actor=actor,
        object_type="contact_mail_attachment",
        object_id=str(attachment.pk),
        function="contact.mail_attachment_download",
        terminal=terminal,
        detail={
            "ticket": attachment.mail.ticket.number,
            "content_type": attachment.content_type,
            "size": attachment.size,
        },
    )
    return handle
