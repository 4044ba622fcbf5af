"""The demo's announcements: published in three languages to the news and the feeds,
with nothing sent anywhere (no subscribers, no followers); seeding twice adds nothing."""

from __future__ import annotations

import socket

import feedparser
import pytest

from machi.announce.demo import DEMO, demo_announcements_seed
from machi.announce.models import Announcement, ChannelDelivery, DeliveryState
from machi.site.models import NewsItem
from machi.tenancy.context import tenant_context

from .conftest import A

pytestmark = pytest.mark.django_db(databases="__all__")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_demo_publishes_its_announcements_once_and_sends_nothing(approver, client, settings):
    # A mail server that is not there: a connection attempt would fail the mail channel.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _closed_port()
    assert demo_announcements_seed(A) == len(DEMO)
    assert demo_announcements_seed(A) == 0
    with tenant_context(A):
        announcements = list(Announcement.objects.order_by("pk"))
        assert [a.category for a in announcements] == ["bousai", "kurashi", "kosodate"]
        assert all(a.languages == ["ja", "ja-easy", "en"] for a in announcements)
        assert all(a.status == "published" for a in announcements)
        states = set(ChannelDelivery.objects.values_list("channel", "state"))
        assert {state for _, state in states} == {DeliveryState.SENT}
        assert ("cap", DeliveryState.SENT) in states
        news = set(NewsItem.objects.values_list("announcement_id", flat=True))
        assert {a.pk for a in announcements} <= news
    feed = feedparser.parse(client.get(f"/{A}/feeds/news.rss?lang=en").content)
    assert not feed.bozo
    assert "Prepare for heavy rain" in [e.title for e in feed.entries]
    cap = feedparser.parse(client.get(f"/{A}/feeds/cap.xml").content)
    assert len(cap.entries) == 1


def test_a_municipality_without_an_approver_gets_none(municipality_a, make_staff):
    make_staff(municipality_a, ("koho", "web_author"), username="only-author")
    assert demo_announcements_seed(A) == 0
    with tenant_context(A):
        assert not Announcement.objects.exists()
