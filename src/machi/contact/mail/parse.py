"""Reading a received mail with the standard library (``email``, policy default),
defensively: every header and part may be missing, malformed or in a charset Python
does not know, and none of that may raise out of here except as :class:`MailParseError`.
"""

from __future__ import annotations

import hashlib
import hmac
import html.parser
import re
import unicodedata
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

from django.conf import settings

from machi.contact.mail.bounce import DeliveryReport, delivery_report

MSGID = re.compile(r"<([^<>\s]{1,298})>")
BOUNCE_LOCALPARTS = {"mailer-daemon", "postmaster", "bounce", "bounces", "noreply-dmarc-support"}
HEADERS_KEPT = 60  # staff see the first headers of a mail; a mail may carry thousands
HEADER_VALUE_MAX = 1000


class MailParseError(Exception):
    """The bytes are no mail machi can read (the reason, never the content)."""


@dataclass
class Attachment:
    filename: str
    content: bytes
    content_type: str


@dataclass
class ParsedMail:
    message_id: str
    in_reply_to: str
    references: list[str]
    subject: str
    from_address: str
    from_name: str
    body: str
    headers: list[list[str]]
    auto_submitted: bool
    bounce: bool
    auth_failed: str  # "dmarc" / "spf" when the trusted Authentication-Results says fail
    attachments: list[Attachment] = field(default_factory=list)
    omitted: list[str] = field(default_factory=list)  # attachments over the size limit
    report: DeliveryReport | None = None  # an RFC 3464 delivery status notification


def address_key(address: str) -> str:
    """An HMAC of the address: counts per sender and logs without the address itself."""
    return hmac.new(
        settings.SECRET_KEY.encode(), address.strip().lower().encode(), hashlib.sha256
    ).hexdigest()


def message_ids(value: str | None) -> list[str]:
    return MSGID.findall(str(value or ""))


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header the policy cannot even fold into a string
        return ""
    try:
        return str(value or "").strip()
    except Exception:
        return ""


def _headers(message: Message) -> list[list[str]]:
    kept = []
    for name, raw_value in list(message.raw_items())[:HEADERS_KEPT]:
        try:
            value = str(message.policy.header_fetch_parse(name, raw_value))
        except Exception:  # undecodable: keep it as it came
            value = str(raw_value)
        kept.append([str(name)[:100], value[:HEADER_VALUE_MAX]])
    return kept


def is_auto_submitted(message: Message) -> bool:
    """RFC 3834 Auto-Submitted, Precedence bulk/junk/list, and the usual vendor marks."""
    auto = _header(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        return True
    if _header(message, "Precedence").lower() in {"bulk", "junk", "list", "auto_reply"}:
        return True
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "List-Id"):
        if _header(message, name):
            return True
    return False


def is_bounce(message: Message, from_address: str) -> bool:
    local = from_address.partition("@")[0].lower()
    if local in BOUNCE_LOCALPARTS or local.startswith("mailer-daemon"):
        return True
    if _header(message, "Return-Path") == "<>":
        return True
    content_type = _header(message, "Content-Type").lower()
    return "multipart/report" in content_type and "delivery-status" in content_type


def auth_failure(message: Message) -> str:
    """'dmarc' or 'spf' when the receiving MTA (``MACHI_CONTACT_MAIL_AUTHSERV_ID``) says
    the sender failed; '' otherwise. Other hosts' Authentication-Results are ignored:
    anyone can write one into a mail. The receiving MTA must remove headers claiming
    its own id before adding its own (OpenDMARC and Postfix's milters do)."""
    trusted = settings.MACHI_CONTACT_MAIL_AUTHSERV_ID.lower()
    if not trusted:
        return ""
    for value in message.get_all("Authentication-Results") or []:
        text = str(value)
        authserv = text.split(";", 1)[0].strip().split()[0].lower() if text.strip() else ""
        if authserv != trusted:
            continue
        results = dict(re.findall(r"\b(dmarc|spf)\s*=\s*([a-z]+)", text.lower()))
        if results.get("dmarc") == "fail":
            return "dmarc"
        if results.get("spf") == "fail":
            return "spf"
        return ""  # the first trusted header is the MTA's own (it prepends)
    return ""


class _Text(html.parser.HTMLParser):
    SKIP = {"script", "style", "head"}
    BREAK = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BREAK:
            self.parts.append("\n")

    def handle_endtag(self, tag) -> None:
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1

    def handle_data(self, data) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """The text of an HTML mail (never stored as HTML)."""
    parser = _Text()
    parser.feed(markup)
    parser.close()
    text = "".join(parser.parts)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _part_text(part: Message) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError, KeyError, ValueError):
        # an unknown or lying charset: keep what can be read
        payload = part.get_payload(decode=True) or b""
        for charset in ("utf-8", "iso-2022-jp", "cp932", "euc-jp"):
            try:
                return payload.decode(charset)
            except (UnicodeDecodeError, LookupError):
                continue
        return payload.decode("utf-8", errors="replace")


def _body(message: EmailMessage) -> str:
    try:
        part = message.get_body(preferencelist=("plain", "html"))
    except Exception:
        part = None
    if part is None:
        if message.get_content_maintype() == "text":
            part = message
        else:
            return ""
    text = _part_text(part)
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return text.replace("\r\n", "\n").strip()


SIGNATURES = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"PK\x03\x04", "application/zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
]


def sniff_type(content: bytes) -> str:
    """The type by the bytes, never by the sender's name or Content-Type."""
    for magic, content_type in SIGNATURES:
        if content.startswith(magic):
            return content_type
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    try:
        content[:65536].decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain"


def safe_filename(name: str | None, index: int) -> str:
    """A display name without path, control or shell characters; never used as a path."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r'[<>:"|?*\x00]', "_", name).strip(" .")
    if not name:
        return f"attachment-{index}"
    stem, dot, ext = name.rpartition(".")
    if dot and len(ext) <= 10:
        return stem[: 140 - len(ext)] + "." + ext
    return name[:140]


def _leaves(message: Message):
    """The parts of a mail, an attached mail (message/rfc822) being one part: it is kept
    whole as a .eml file, not mixed into this mail's own parts."""
    if message.get_content_type() == "message/rfc822" or not message.is_multipart():
        yield message
        return
    parts = message.iter_parts() if isinstance(message, EmailMessage) else message.get_payload()
    for part in parts:
        yield from _leaves(part)


def _attachments(message: EmailMessage, limit: int) -> tuple[list[Attachment], list[str]]:
    kept: list[Attachment] = []
    omitted: list[str] = []
    for index, part in enumerate(_leaves(message), start=1):
        disposition = part.get_content_disposition()
        filename = part.get_filename() if disposition else None
        if part is message:
            continue
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            content = (inner[0] if isinstance(inner, list) and inner else part).as_bytes()
            name = safe_filename(filename or "message.eml", index)
        elif (
            disposition == "attachment"
            or (disposition == "inline" and filename)
            or (part.get_content_maintype() not in ("text", "multipart"))
        ):
            try:
                content = part.get_payload(decode=True) or b""
            except Exception:
                content = b""
            name = safe_filename(filename, index)
        else:
            continue
        if len(content) > limit:
            omitted.append(name)
            continue
        if content:
            kept.append(Attachment(name, content, sniff_type(content)))
    return kept, omitted


def parse_mail(raw: bytes) -> ParsedMail:
    """Parse *raw*; raise :class:`MailParseError` when there is nothing to work with."""
    if not raw or not raw.strip():
        raise MailParseError("empty")
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as error:
        raise MailParseError(f"parser: {type(error).__name__}") from error
    if not message.keys():
        raise MailParseError("no headers")
    from_header = _header(message, "From")
    name, address = parseaddr(from_header)
    if not address:
        addresses = getaddresses([from_header])
        name, address = addresses[0] if addresses else ("", "")
    address = address.strip()
    if "@" not in address or len(address) > 254:
        raise MailParseError("no sender address")
    try:
        body = _body(message)
        attachments, omitted = _attachments(
            message, settings.MACHI_CONTACT_MAIL_MAX_ATTACHMENT_BYTES
        )
    except Exception as error:
        raise MailParseError(f"MIME: {type(error).__name__}") from error
    try:
        report = delivery_report(message)
    except Exception:  # a malformed report is still a bounce (is_bounce), just unmatched
        report = None
    ids = message_ids(_header(message, "Message-ID"))
    subject = " ".join(_header(message, "Subject").split())
    return ParsedMail(
        message_id=ids[0] if ids else "",
        in_reply_to=(message_ids(_header(message, "In-Reply-To")) or [""])[0],
        references=message_ids(_header(message, "References"))[-50:],
        subject=subject,
        from_address=address,
        from_name=name.strip()[:100],
        body=body,
        headers=_headers(message),
        auto_submitted=is_auto_submitted(message),
        bounce=is_bounce(message, address),
        auth_failed=auth_failure(message),
        attachments=attachments,
        omitted=omitted,
        report=report,
    )
