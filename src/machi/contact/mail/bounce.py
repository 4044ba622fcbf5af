"""Delivery status notifications (RFC 3464 ``multipart/report;
report-type=delivery-status``) for the contact center's own replies.

A report names the mail it bounces only through the headers it returns
(``text/rfc822-headers`` or the whole ``message/rfc822``): their ``Message-ID``, or the
``X-Machi-Reference`` every outgoing mail carries (some relays rewrite Message-ID), is
matched to an outgoing :class:`~machi.contact.models.MailMessage`. Nothing else of the
report is trusted or kept: the recipient's address and the remote server's diagnostic
text stay out of the database; the status code (``5.1.1``) and action are enough for
an agent to decide to phone the resident instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import HeaderParser

REFERENCE_HEADER = "X-Machi-Reference"
STATUS = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}$")
MSGID = re.compile(r"<?([^<>\s]{1,298})>?")


@dataclass(frozen=True)
class DeliveryReport:
    original_ids: tuple[str, ...]  # Message-ID / X-Machi-Reference of the bounced mail
    status: str  # the first recipient's RFC 3463 status ("5.1.1"), '' if none valid
    action: str  # failed | delayed | delivered | relayed | expanded | ''

    @property
    def failed(self) -> bool:
        return self.action == "failed" or (not self.action and self.status.startswith("5"))


def is_delivery_report(message: Message) -> bool:
    return (
        message.get_content_type() == "multipart/report"
        and str(message.get_param("report-type", "")).lower() == "delivery-status"
    )


def _returned_headers(part: Message) -> Message | None:
    kind = part.get_content_type()
    if kind == "message/rfc822":
        payload = part.get_payload()
        return payload[0] if isinstance(payload, list) and payload else None
    if kind == "text/rfc822-headers":
        try:
            text = part.get_content()
        except Exception:
            text = str(part.get_payload())
        return HeaderParser(policy=policy.default).parsestr(text, headersonly=True)
    return None


def _recipient_fields(part: Message) -> tuple[str, str]:
    blocks = part.get_payload()
    if not isinstance(blocks, list):
        return "", ""
    for block in blocks[1:]:  # the first block is per message, the rest per recipient
        status = str(block.get("Status", "")).strip().split(" ")[0]
        action = str(block.get("Action", "")).strip().lower()
        if status or action:
            return (status if STATUS.match(status) else ""), action[:20]
    return "", ""


def delivery_report(message: Message) -> DeliveryReport | None:
    """The report's reference to the bounced mail and its status; None if *message* is
    no delivery report."""
    if not is_delivery_report(message) or not message.is_multipart():
        return None
    ids: list[str] = []
    status = action = ""
    for part in message.iter_parts():
        if part.get_content_type() == "message/delivery-status":
            if not (status or action):
                status, action = _recipient_fields(part)
            continue
        headers = _returned_headers(part)
        if headers is None:
            continue
        for name in (REFERENCE_HEADER, "Message-ID"):
            match = MSGID.fullmatch(str(headers.get(name, "")).strip())
            if match and match.group(1) not in ids:
                ids.append(match.group(1))
    return DeliveryReport(original_ids=tuple(ids), status=status, action=action)
