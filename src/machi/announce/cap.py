"""CAP 1.2 (OASIS Common Alerting Protocol) alerts of 防災 announcements.

One ``info`` per language the announcement was written in: ja → ``ja-JP``, en →
``en-US``; やさしい日本語 is Japanese too, so its ``info`` says ``ja-JP`` and names the
variant in a ``parameter`` (``jp.machi.language`` = ``ja-easy``). The ``area`` is the
announcement's (name, polygon or circle) and always carries the municipality's
全国地方公共団体コード as ``geocode``. A withdrawn announcement is a ``Cancel``, a
correction an ``Update``, both referencing the alert they replace.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from xml.etree import ElementTree as ET

from django.utils import timezone

from machi.announce.links import absolute, host
from machi.announce.models import Announcement, Category, Status
from machi.announce.rendering import text_in

NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
SCHEMA = Path(__file__).parent / "schemas" / "CAP-v1.2.xsd"
CAP_LANGUAGE = {"ja": "ja-JP", "ja-easy": "ja-JP", "en": "en-US"}
GEOCODE_NAME = "全国地方公共団体コード"
CONTENT_TYPE = "application/cap+xml; charset=utf-8"


def cap_time(moment: datetime.datetime) -> str:
    """CAP's dateTime: local time with its offset, no fraction ("2026-12-07T22:05:00+09:00")."""
    return timezone.localtime(moment).replace(microsecond=0).isoformat()


def sender(lg_code: str) -> str:
    return f"{lg_code}@{host()}"


def identifier(lg_code: str, announcement: Announcement, *, cancel: bool = False) -> str:
    base = f"jp.machi.{lg_code}.announcement.{announcement.pk}"
    return base + ".cancel" if cancel else base


def _reference(lg_code: str, announcement: Announcement) -> str:
    original = identifier(lg_code, announcement)
    return f"{sender(lg_code)},{original},{cap_time(announcement.published_at)}"


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NAMESPACE}}}{tag}")
    if text is not None:
        element.text = text
    return element


def alert_element(announcement: Announcement, *, lg_code: str, municipality: str) -> ET.Element:
    cancel = announcement.status == Status.WITHDRAWN
    alert = ET.Element(f"{{{NAMESPACE}}}alert")
    _sub(alert, "identifier", identifier(lg_code, announcement, cancel=cancel))
    _sub(alert, "sender", sender(lg_code))
    sent = announcement.withdrawn_at if cancel else announcement.published_at
    _sub(alert, "sent", cap_time(sent))
    _sub(alert, "status", "Actual")
    if cancel:
        _sub(alert, "msgType", "Cancel")
    elif announcement.supersedes_id:
        _sub(alert, "msgType", "Update")
    else:
        _sub(alert, "msgType", "Alert")
    _sub(alert, "scope", "Public")
    if cancel:
        _sub(alert, "references", _reference(lg_code, announcement))
    elif announcement.supersedes_id:
        _sub(alert, "references", _reference(lg_code, announcement.supersedes))
    category = Category.objects.filter(code=announcement.category).first()
    url = absolute(announcement.get_absolute_url())
    for code in announcement.languages:
        text = text_in(announcement, code)
        info = _sub(alert, "info")
        _sub(info, "language", CAP_LANGUAGE[code])
        _sub(info, "category", "Safety")
        _sub(info, "event", category.label(code) if category else announcement.category)
        _sub(info, "urgency", announcement.urgency)
        _sub(info, "severity", announcement.severity)
        _sub(info, "certainty", announcement.certainty)
        if announcement.valid_until is not None:
            _sub(info, "expires", cap_time(announcement.valid_until))
        _sub(info, "senderName", municipality)
        _sub(info, "headline", text.title)
        _sub(info, "description", text.body)
        _sub(info, "web", url)
        if code == "ja-easy":
            parameter = _sub(info, "parameter")
            _sub(parameter, "valueName", "jp.machi.language")
            _sub(parameter, "value", "ja-easy")
        area = _sub(info, "area")
        _sub(area, "areaDesc", announcement.area_name or municipality)
        if announcement.area_polygon:
            _sub(area, "polygon", announcement.area_polygon)
        if announcement.area_circle:
            _sub(area, "circle", announcement.area_circle)
        geocode = _sub(area, "geocode")
        _sub(geocode, "valueName", GEOCODE_NAME)
        _sub(geocode, "value", lg_code)
    return alert


def alert_xml(announcement: Announcement, *, lg_code: str, municipality: str) -> bytes:
    ET.register_namespace("", NAMESPACE)
    element = alert_element(announcement, lg_code=lg_code, municipality=municipality)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)
