"""地域イベント in a real browser (issue 14, §2): the calendar and an event page in 日本語,
やさしい日本語 and English pass axe-core (nothing serious or critical, no CSP violation,
script error or foreign request), and the iCalendar links of both answer a calendar
that icalendar parses, holding the demo's approved events."""

from __future__ import annotations

import datetime
import re
from zoneinfo import ZoneInfo

import icalendar
from playwright.sync_api import Page, expect

CHIYODA = "131016"
B = f"/{CHIYODA}/events/"
LANGUAGES = {"ja": "ja", "ja-easy": "ja", "en": "en"}
TITLES = {
    "ja": "地域防災訓練",
    "ja-easy": "さいがいの れんしゅう",
    "en": "Community disaster drill",
}


def _calendar(page: Page, url: str) -> icalendar.Calendar:
    response = page.request.get(url)
    assert response.status == 200, url
    assert response.headers["content-type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(response.body())


def test_calendar_and_event_in_three_languages(page: Page, checks):
    page.set_viewport_size({"width": 1280, "height": 800})
    checks.watched(page)
    # the demo's drill is three days from today: its month's calendar
    drill_day = datetime.datetime.now(ZoneInfo("Asia/Tokyo")).date() + datetime.timedelta(days=3)
    month = f"{B}?month={drill_day:%Y-%m}"
    event_url = None
    for language, html_lang in LANGUAGES.items():
        page.goto(f"{month}&lang={language}")
        expect(page).to_have_url(re.compile(re.escape(month) + "$"))
        expect(page.locator("html")).to_have_attribute("lang", html_lang)
        drill = page.locator(".le-list a", has_text=TITLES[language])
        expect(drill).to_have_count(1)
        checks.check(page, f"calendar ({language})")
        event_url = drill.get_attribute("href")
        drill.click()
        expect(page.get_by_role("heading", level=1)).to_have_text(TITLES[language])
        expect(page.locator("html")).to_have_attribute("lang", html_lang)  # remembered
        checks.check(page, f"event page ({language})")
    page.goto(f"{B}?lang=ja")
    checks.assert_clean()

    # The event's iCalendar link and the calendar's.
    page.goto(event_url)
    ics = page.get_by_role("link", name="カレンダーに追加（iCalendar）").get_attribute("href")
    assert ics and re.fullmatch(rf"{B}\d+\.ics", ics), ics
    events = _calendar(page, ics).walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == ["地域防災訓練"]
    assert events[0].get("LOCATION") and "中央公園" in str(events[0]["LOCATION"])

    page.goto(month)
    feed = page.get_by_role("link", name="iCalendar（カレンダーアプリ用）").get_attribute("href")
    summaries = {str(e["SUMMARY"]) for e in _calendar(page, feed).walk("VEVENT")}
    assert "地域防災訓練" in summaries
    # the residents' event still waiting for the moderator is not published
    assert "町内会 夏祭り" in summaries and "スマホ相談会" not in summaries
