"""The iCalendar feeds parsed back with icalendar and checked field by field; HTTP
caching with ETag and Last-Modified; the イベント一覧 CSV read with csv."""

from __future__ import annotations

import csv
import datetime
import io
from zoneinfo import ZoneInfo

import icalendar
import pytest

from machi.localevents import services
from machi.localevents.opendata import COLUMNS
from machi.localevents.tests.conftest import A, day
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")
TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def timed(make_event):
    return make_event(
        title={"ja": "夏祭り", "en": "Summer festival"}, title_kana="ナツマツリ",
        description={"ja": "盆踊りです。"}, start_time=datetime.time(17, 0),
        end_time=datetime.time(21, 30), address="千代田区千代田1-1", lat="35.685",
        long="139.753", fee_yen=500, fee_note="子ども無料", contact_name="山田",
        contact_phone="03-1234-5678", contact_public=True,
    )  # fmt: skip


@pytest.fixture
def all_day(make_event):
    return make_event(
        title={"ja": "植木市"}, starts_on=day(10), ends_on=day(12), category="other",
        contact_name="秘密の人", contact_phone="090-0000-0000",
    )  # fmt: skip


def parse(response) -> icalendar.Calendar:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def test_event_ics_field_by_field(client, timed):
    cal = parse(client.get(f"/{A}/events/{timed.pk}.ics"))
    assert cal["VERSION"] == "2.0" and "PRODID" in cal
    [tz] = cal.walk("VTIMEZONE")
    assert tz["TZID"] == "Asia/Tokyo"
    [event] = cal.walk("VEVENT")
    assert str(event["UID"]) == f"{timed.uid}@testserver"
    assert event["DTSTAMP"].dt.tzinfo is not None
    start, end = event["DTSTART"], event["DTEND"]
    assert start.params["TZID"] == "Asia/Tokyo" and end.params["TZID"] == "Asia/Tokyo"
    assert start.dt == datetime.datetime.combine(day(), datetime.time(17, 0), tzinfo=TOKYO)
    assert end.dt == datetime.datetime.combine(day(), datetime.time(21, 30), tzinfo=TOKYO)
    assert str(event["SUMMARY"]) == "夏祭り"
    description = str(event["DESCRIPTION"])
    assert (
        "盆踊りです。" in description and "500円" in description and "03-1234-5678" in description
    )
    assert str(event["LOCATION"]) == "中央公園、千代田区千代田1-1"
    assert (event["GEO"].latitude, event["GEO"].longitude) == (35.685, 139.753)
    assert str(event["URL"]) == f"https://machi.example.jp/{A}/events/{timed.pk}/"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert b"TZID=Asia/Tokyo" in client.get(f"/{A}/events/{timed.pk}.ics").content


def test_all_day_and_cancelled_in_the_calendar_feed(client, timed, all_day, moderator):
    with tenant_context(A):
        services.event_cancel(event=timed, actor=moderator, reason="雨天のため")
    cal = parse(client.get(f"/{A}/events/calendar.ics"))
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Asia/Tokyo"]
    events = {str(e["SUMMARY"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {"夏祭り", "植木市"}
    assert str(events["夏祭り"]["STATUS"]) == "CANCELLED"
    assert int(events["夏祭り"]["SEQUENCE"]) == 1
    whole = events["植木市"]
    assert whole["DTSTART"].dt == day(10) and not isinstance(whole["DTSTART"].dt, datetime.datetime)
    assert whole["DTEND"].dt == day(13)  # exclusive end (RFC 5545)
    assert "GEO" not in whole
    assert "090-0000-0000" not in str(whole["DESCRIPTION"])  # contact not agreed public
    only = parse(client.get(f"/{A}/events/calendar.ics?category=other"))
    assert [str(e["SUMMARY"]) for e in only.walk("VEVENT")] == ["植木市"]
    assert client.get(f"/{A}/events/calendar.ics?category=nonesuch").status_code == 404


def test_pending_events_are_not_in_the_feeds(client, make_event):
    pending = make_event(approve=False, title={"ja": "審査中の催し"})
    assert client.get(f"/{A}/events/{pending.pk}.ics").status_code == 404
    assert "審査中の催し" not in client.get(f"/{A}/events/calendar.ics").content.decode()
    assert "審査中の催し" not in client.get(f"/{A}/events/opendata/event.csv").content.decode()


@pytest.mark.parametrize("path", ["calendar.ics", "opendata/event.csv", "{pk}.ics"])
def test_http_caching_etag_and_last_modified(client, timed, moderator, path):
    url = f"/{A}/events/" + path.format(pk=timed.pk)
    first = client.get(url)
    assert first.status_code == 200
    assert first["Cache-Control"].startswith("public")
    etag, modified = first["ETag"], first["Last-Modified"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    with tenant_context(A):
        services.event_cancel(event=timed, actor=moderator, reason="中止")
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_opendata_csv_header_order_and_values(client, timed, all_day, municipality_a):
    response = client.get(f"/{A}/events/opendata/event.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
    assert b"\r\n" in response.content
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert tuple(rows[0]) == COLUMNS and len(COLUMNS) == 32
    assert rows[0][:5] == [
        "都道府県コード又は市区町村コード",
        "NO",
        "都道府県名",
        "市区町村名",
        "イベント名",
    ]
    assert rows[0][-1] == "備考"
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [r["イベント名"] for r in records] == ["夏祭り", "植木市"]
    festival, market = records
    assert festival["都道府県コード又は市区町村コード"] == A
    assert festival["NO"] == str(timed.pk)
    assert festival["都道府県名"] == municipality_a.prefecture
    assert festival["市区町村名"] == municipality_a.name
    assert festival["イベント名_カナ"] == "ナツマツリ"
    assert festival["イベント名_英語"] == "Summer festival"
    assert festival["開始日"] == festival["終了日"] == day().isoformat()
    assert (festival["開始時間"], festival["終了時間"]) == ("17:00", "21:30")
    assert festival["開始日時特記事項"] == ""
    assert (festival["料金(基本)"], festival["料金(詳細)"]) == ("500", "子ども無料")
    assert (festival["連絡先名称"], festival["連絡先電話番号"]) == ("山田", "03-1234-5678")
    assert festival["主催者"] == "中央町内会"
    assert (festival["場所名称"], festival["住所"]) == ("中央公園", "千代田区千代田1-1")
    assert (festival["緯度"], festival["経度"]) == ("35.685000", "139.753000")
    assert festival["URL"] == f"https://machi.example.jp/{A}/events/{timed.pk}/"
    assert (market["開始日"], market["終了日"]) == (day(10).isoformat(), day(12).isoformat())
    assert (market["開始時間"], market["終了時間"]) == ("", "")
    assert market["開始日時特記事項"] == "終日"
    assert (market["料金(基本)"], market["料金(詳細)"]) == ("0", "無料")
    assert market["連絡先名称"] == market["連絡先電話番号"] == ""  # not agreed public
    assert market["緯度"] == market["経度"] == ""
