"""RSS 2.0 and Atom through feedparser (no bozo), per language, with conditional GETs;
typed markup in titles stays text."""

from __future__ import annotations

import datetime
from html.parser import HTMLParser
from xml.etree import ElementTree

import feedparser
import pytest
import time_machine
from django.utils import timezone

from machi.announce import services
from machi.testing.xss import XSS_CASES, assert_inert

from .conftest import A

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def published(draft, approver, in_a):
    def make(**fields):
        announcement = draft(**fields)
        return services.announcement_publish(announcement=announcement, actor=approver)

    return make


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_the_feed_parses_without_bozo_and_carries_the_announcements(client, published, kind):
    first = published(category="kurashi", title_ja="粗大ごみの受付日が変わります")
    second = published()
    draft_only = services.announcement_create(
        actor=None, command_line=True, title={"ja": "下書き"}, body={"ja": "まだ"},
        category="kurashi",
    )  # fmt: skip
    response = client.get(f"/{A}/feeds/news.{kind}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/rss+xml" if kind == "rss" else "application/atom+xml"
    )
    assert "public" in response["Cache-Control"]
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title == "千代田区のお知らせ"
    titles = [e.title for e in feed.entries]
    assert titles == ["避難所を開設しました", "粗大ごみの受付日が変わります"]
    entry = feed.entries[0]
    assert entry.link == f"https://machi.example.jp/{A}/announcements/{second.pk}/"
    assert "<strong>千代田小学校</strong>" in (entry.get("summary") or entry.content[0].value)
    assert entry.tags[0].term == "bousai"
    assert entry.published_parsed[:6] == second.published_at.utctimetuple()[:6]
    assert all(e.link.rstrip("/").split("/")[-1] != str(draft_only.pk) for e in feed.entries)
    assert str(first.pk) in feed.entries[1].link


def test_a_feed_per_language_falls_back_to_japanese_with_a_notice(client, published):
    published(en=False, category="kurashi", title_ja="窓口の受付時間")
    published()
    english = feedparser.parse(client.get(f"/{A}/feeds/news.atom?lang=en").content)
    assert not english.bozo
    assert english.feed.title == "Announcements of 千代田区"
    assert [e.title for e in english.entries] == ["An evacuation shelter is open", "窓口の受付時間"]
    assert "not available in English yet" in english.entries[1].summary
    easy = feedparser.parse(client.get(f"/{A}/feeds/news.rss?lang=ja-easy").content)
    assert not easy.bozo
    assert easy.feed.language == "ja"
    assert "やさしい にほんごに なって いません" in easy.entries[0].summary


def test_conditional_gets_answer_304_until_something_is_published(client, published):
    published()
    first = client.get(f"/{A}/feeds/news.rss")
    etag, modified = first["ETag"], first["Last-Modified"]
    again = client.get(f"/{A}/feeds/news.rss", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    since = client.get(f"/{A}/feeds/news.rss", HTTP_IF_MODIFIED_SINCE=modified)
    assert since.status_code == 304
    # Another language is another representation.
    assert client.get(f"/{A}/feeds/news.rss?lang=en", HTTP_IF_NONE_MATCH=etag).status_code == 200
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5)):
        published(category="kurashi")
    changed = client.get(f"/{A}/feeds/news.rss", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_a_withdrawn_announcement_leaves_the_feed(client, published, approver):
    announcement = published()
    services.announcement_withdraw(announcement=announcement, actor=approver)
    feed = feedparser.parse(client.get(f"/{A}/feeds/news.atom").content)
    assert not feed.bozo and feed.entries == []


def test_the_feeds_of_one_municipality_show_nothing_of_another(client, published):
    published()
    feed = feedparser.parse(client.get("/271403/feeds/news.rss").content)
    assert not feed.bozo and feed.entries == []
    assert feed.feed.title == "堺市のお知らせ"


class _Tags(HTMLParser):
    """The markup of a document without its text: escaped text that merely looks like
    an attribute ("SRC=data:…" typed by staff) is not active content."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        rendered = " ".join(f'{name}="{value or ""}"' for name, value in attrs)
        self.tags.append(f"<{tag} {rendered}>")


def markup_of(html: str) -> str:
    parser = _Tags()
    parser.feed(html)
    return "\n".join(parser.tags)


def _descriptions(raw: str) -> list[str]:
    root = ElementTree.fromstring(raw.encode())  # noqa: S314 - our own output
    if root.tag == "rss":
        return [item.findtext("description") or "" for item in root.iter("item")]
    atom = "{http://www.w3.org/2005/Atom}"
    return [entry.findtext(f"{atom}summary") or "" for entry in root.iter(f"{atom}entry")]


@pytest.mark.parametrize("case", XSS_CASES)
def test_typed_markup_in_titles_is_text_in_the_feed_and_the_pages(client, published, case):
    announcement = published(title_ja=f"お知らせ{case}", body_ja=f"本文{case}")
    for kind in ("rss", "atom"):
        raw = client.get(f"/{A}/feeds/news.{kind}").content.decode()
        feed = feedparser.parse(raw)
        assert not feed.bozo
        # The title is the text typed, escaped in the XML (feedparser itself sanitises
        # titles as HTML, so read the XML).
        root = ElementTree.fromstring(raw.encode())  # noqa: S314 - our own output
        titles = [t.text for t in root.iter() if t.tag.endswith("title")]
        assert f"お知らせ{case}" in titles
        # The title is text; the description, sanitised HTML, has no active markup.
        (description,) = _descriptions(raw)
        assert "本文" in description
        assert_inert(markup_of(description))
    page = client.get(f"/{A}/announcements/{announcement.pk}/").content.decode()
    assert_inert(markup_of(page.split("<main", 1)[-1]))
    assert "<script>window.__xss" not in page.lower()
