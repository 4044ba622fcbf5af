"""The download of a received mail's attachment from the agent's ticket page.

Always a download (``Content-Disposition: attachment``) with the type read from the
file's bytes and ``nosniff``: an attachment may be HTML or a script, and must never run
in the browser under machi's origin.
"""

from __future__ import annotations

from django.http import FileResponse, HttpRequest
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from machi.audit.services import Terminal
from machi.contact.mail.attachments import mail_attachment_download, mail_attachment_get
from machi.contact.services.tickets import WORKING_ROLES
from machi.web.decorators import roles_required


@require_GET
@never_cache
@roles_required(*WORKING_ROLES)
def attachment_download(
    request: HttpRequest, lg_code: str, ticket_pk: int, pk: int
) -> FileResponse:
    attachment = mail_attachment_get(ticket_id=ticket_pk, pk=pk)
    handle = mail_attachment_download(
        attachment=attachment, actor=request.user, terminal=Terminal.from_request(request)
    )
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
