"""CAP 1.2 alerts of 防災 announcements, validated against the OASIS schema shipped in the
repository (schemas/CAP-v1.2.xsd), and the index of the alerts still valid."""

from __future__ import annotations

import datetime
from xml.etree import ElementTree

import feedparser
import pytest
import time_machine
import xmlschema
from django.utils import timezone

from machi.announce import services
from machi.announce.cap import SCHEMA

from .conftest import A

pytestmark = pytest.mark.django_db(databases="__all__")
NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
POLYGON = "35.68,139.75 35.69,139.77 35.67,139.77 35.68,139.75"


@pytest.fixture(scope="module")
def schema():
    return xmlschema.XMLSchema(str(SCHEMA))


def _alert(client, pk: int, lg: str = A) -> tuple[bytes, ElementTree.Element]:
    response = client.get(f"/{lg}/announcements/{pk}/cap.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/cap+xml")
    return response.content, ElementTree.fromstring(response.content)  # noqa: S314


def _published(draft, approver, **fields):
    return services.announcement_publish(announcement=draft(**fields), actor=approver)


def test_an_alert_is_valid_cap_with_an_info_per_language(client, draft, approver, in_a, schema):
    fields = {"urgency": "Immediate", "severity": "Severe", "certainty": "Observed",
              "area_name": "丸の内一丁目", "area_polygon": POLYGON}  # fmt: skip
    announcement = draft(**fields)
    services.announcement_update(
        announcement=announcement, actor=approver,
        title={"ja": "避難指示", "ja-easy": "にげて ください", "en": "Evacuation order"},
        body={"ja": "直ちに避難してください。", "ja-easy": "すぐ にげて ください。",
              "en": "Evacuate now."},
    )  # fmt: skip
    announcement = services.announcement_publish(announcement=announcement, actor=approver)
    raw, alert = _alert(client, announcement.pk)
    schema.validate(raw)  # raises on any departure from the schema
    assert (
        alert.findtext("cap:identifier", namespaces=NS)
        == f"jp.machi.{A}.announcement.{announcement.pk}"
    )
    assert alert.findtext("cap:sender", namespaces=NS) == f"{A}@machi.example.jp"
    sent = alert.findtext("cap:sent", namespaces=NS)
    assert sent.endswith("+09:00")
    assert datetime.datetime.fromisoformat(sent) == announcement.published_at.replace(microsecond=0)
    assert alert.findtext("cap:msgType", namespaces=NS) == "Alert"
    assert alert.findtext("cap:status", namespaces=NS) == "Actual"
    assert alert.findtext("cap:scope", namespaces=NS) == "Public"
    infos = alert.findall("cap:info", NS)
    assert [i.findtext("cap:language", namespaces=NS) for i in infos] == ["ja-JP", "ja-JP", "en-US"]
    easy = infos[1]
    assert easy.findtext("cap:parameter/cap:value", namespaces=NS) == "ja-easy"
    english = infos[2]
    assert english.findtext("cap:headline", namespaces=NS) == "Evacuation order"
    assert english.findtext("cap:urgency", namespaces=NS) == "Immediate"
    assert english.findtext("cap:severity", namespaces=NS) == "Severe"
    assert english.findtext("cap:certainty", namespaces=NS) == "Observed"
    assert english.findtext("cap:expires", namespaces=NS).endswith("+09:00")
    area = english.find("cap:area", NS)
    assert area.findtext("cap:areaDesc", namespaces=NS) == "丸の内一丁目"
    assert area.findtext("cap:polygon", namespaces=NS) == POLYGON
    assert area.findtext("cap:geocode/cap:value", namespaces=NS) == A


def test_withdrawal_is_a_cancel_and_a_correction_an_update_both_referencing(
    client, draft, approver, in_a, schema
):
    original = _published(draft, approver, area_circle="35.68,139.76 2.5")
    correction = _published(draft, approver, supersedes=original, title_ja="避難所の訂正")
    raw, update = _alert(client, correction.pk)
    schema.validate(raw)
    assert update.findtext("cap:msgType", namespaces=NS) == "Update"
    reference = update.findtext("cap:references", namespaces=NS)
    assert reference.split(",")[1] == f"jp.machi.{A}.announcement.{original.pk}"
    assert update.findtext("cap:info/cap:area/cap:areaDesc", namespaces=NS) == "千代田区"

    services.announcement_withdraw(announcement=correction, actor=approver)
    raw, cancel = _alert(client, correction.pk)
    schema.validate(raw)
    assert cancel.findtext("cap:msgType", namespaces=NS) == "Cancel"
    assert cancel.findtext("cap:identifier", namespaces=NS).endswith(".cancel")
    assert cancel.findtext("cap:references", namespaces=NS).split(",")[1] == (
        f"jp.machi.{A}.announcement.{correction.pk}"
    )


def test_the_schema_refuses_an_invalid_alert(client, draft, approver, in_a, schema):
    announcement = _published(draft, approver)
    raw, alert = _alert(client, announcement.pk)
    schema.validate(raw)  # valid as served: each change below is what breaks it
    alert.find("cap:msgType", NS).text = "Warning"  # not a CAP message type
    broken = ElementTree.tostring(alert)
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        schema.validate(broken)
    sent = alert.find("cap:sent", NS)
    alert.find("cap:msgType", NS).text = "Alert"
    sent.text = "2026-12-07T13:00:00Z"  # CAP wants an explicit offset
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        schema.validate(ElementTree.tostring(alert))


def test_the_index_lists_the_bousai_alerts_still_valid(client, draft, approver, in_a):
    now = timezone.now()
    valid = _published(draft, approver, valid_until=now + datetime.timedelta(hours=2))
    short = _published(draft, approver, valid_until=now + datetime.timedelta(minutes=30))
    other = _published(draft, approver, category="kurashi")
    feed = feedparser.parse(client.get(f"/{A}/feeds/cap.xml").content)
    assert not feed.bozo
    links = [e.link for e in feed.entries]
    assert f"https://machi.example.jp/{A}/announcements/{valid.pk}/cap.xml" in links
    assert any(str(short.pk) in link for link in links)
    assert not any(f"/{other.pk}/cap.xml" in link for link in links)
    assert client.get(f"/{A}/announcements/{other.pk}/cap.xml").status_code == 404
    with time_machine.travel(now + datetime.timedelta(hours=1)):
        later = feedparser.parse(client.get(f"/{A}/feeds/cap.xml").content)
    assert [e.link for e in later.entries] == [
        f"https://machi.example.jp/{A}/announcements/{valid.pk}/cap.xml"
    ]


def test_a_draft_has_no_alert_and_another_municipality_none_of_ours(client, draft, approver, in_a):
    announcement = draft()
    assert client.get(f"/{A}/announcements/{announcement.pk}/cap.xml").status_code == 404
    services.announcement_publish(announcement=announcement, actor=approver)
    assert client.get(f"/271403/announcements/{announcement.pk}/cap.xml").status_code == 404
