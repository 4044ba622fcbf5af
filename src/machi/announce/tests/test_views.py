"""Staff pages (write, preview, publish, withdraw, delivery status, retry) and the
residents' pages: the announcement, mail subscription, one-click unsubscribe."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from machi.announce import services
from machi.announce.models import Announcement, ChannelDelivery, DeliveryState, Subscriber
from machi.audit.models import AuditEntry
from machi.tenancy.context import tenant_context

from .conftest import A

pytestmark = pytest.mark.django_db(databases="__all__")
STAFF = f"/{A}/announcements/staff/"


def _form(**overrides):
    data = {
        "title_ja": "断水のお知らせ", "body_ja": "12月10日の9時から12時まで断水します。",
        "title_ja_easy": "", "body_ja_easy": "", "title_en": "Water outage",
        "body_en": "No water on 10 December, 9:00-12:00.", "category": "kurashi",
        "urgency": "Expected", "severity": "Minor", "certainty": "Likely", "area_name": "",
        "area_polygon": "", "area_circle": "", "valid_until": "", "supersedes": "",
    }  # fmt: skip
    return {**data, **overrides}


def test_an_author_writes_and_previews_an_approver_publishes(signed_in, author, approver):
    writer = signed_in(author)
    assert writer.get(STAFF).status_code == 200
    assert writer.get(STAFF + "new/").status_code == 200
    response = writer.post(STAFF + "new/", _form())
    assert response.status_code == 302
    with tenant_context(A):
        announcement = Announcement.objects.get()
    page = writer.get(response.url).content.decode()
    assert "Water outage" in page and "断水のお知らせ" in page
    # やさしい日本語 was not written: the preview says the Japanese is shown instead.
    assert "やさしい にほんごに なって いません" in page
    assert "すべての経路に公開" not in page  # an author has no publish button
    refused = writer.post(STAFF + f"{announcement.pk}/publish/")
    assert refused.status_code == 302
    with tenant_context(A):
        announcement.refresh_from_db()
        assert announcement.status == "draft"

    lead = signed_in(approver)
    assert "すべての経路に公開" in lead.get(STAFF + f"{announcement.pk}/").content.decode()
    assert lead.post(STAFF + f"{announcement.pk}/publish/").status_code == 302
    with tenant_context(A):
        announcement.refresh_from_db()
        assert announcement.status == "published"
        assert AuditEntry.objects.filter(action="announce.announcement.published").exists()
    page = lead.get(STAFF + f"{announcement.pk}/").content.decode()
    assert "配信の状況" in page and "RSS・Atom" in page and "送信済み" in page
    assert lead.post(STAFF + f"{announcement.pk}/withdraw/").status_code == 302
    with tenant_context(A):
        announcement.refresh_from_db()
        assert announcement.status == "withdrawn"


def test_bad_input_shows_the_form_again(signed_in, author):
    response = signed_in(author).post(STAFF + "new/", _form(title_ja="", area_circle="x"))
    assert response.status_code == 400
    assert "入力を確認してください" in response.content.decode()
    response = signed_in(author).post(STAFF + "new/", _form(area_circle="35.6,139.7"))
    assert response.status_code == 400
    assert "半径" in response.content.decode()
    with tenant_context(A):
        assert not Announcement.objects.exists()


def test_staff_without_a_web_role_are_refused(signed_in, make_staff, municipality_a, draft):
    clerk = signed_in(make_staff(municipality_a, ("shimin", "counter_clerk")))
    announcement = draft()
    assert clerk.get(STAFF).status_code == 403
    assert clerk.get(STAFF + f"{announcement.pk}/").status_code == 403
    assert clerk.post(STAFF + f"{announcement.pk}/publish/").status_code == 403


def test_staff_of_another_municipality_are_refused(signed_in, approver_b, draft):
    announcement = draft()
    other = signed_in(approver_b)
    assert other.get(STAFF + f"{announcement.pk}/").status_code in (403, 404)
    assert other.post(STAFF + f"{announcement.pk}/publish/").status_code in (403, 404)
    with tenant_context(A):
        assert Announcement.objects.get().status == "draft"


def test_the_retry_button_tries_a_failed_channel_again(
    signed_in, approver, draft, smtp_server, subscribers, settings
):
    from machi.announce.delivery import deliveries_run

    subscribers(2)
    settings.EMAIL_PORT = 1  # nothing listens there
    announcement = draft()
    with tenant_context(A):
        services.announcement_publish(announcement=announcement, actor=approver)
        deliveries_run()
        mail = ChannelDelivery.objects.get(channel="mail")
    assert mail.state == DeliveryState.RETRYING
    lead = signed_in(approver)
    page = lead.get(STAFF + f"{announcement.pk}/").content.decode()
    assert "再試行中" in page and "メール配信を再送" in page
    settings.EMAIL_PORT = smtp_server.port
    url = STAFF + f"{announcement.pk}/deliveries/{mail.pk}/retry/"
    assert lead.post(url).status_code == 302
    with tenant_context(A):
        deliveries_run()
        assert ChannelDelivery.objects.get(pk=mail.pk).state == DeliveryState.SENT
    assert len(smtp_server.received) == 2
    # A sent channel has nothing to retry.
    lead.post(url)
    with tenant_context(A):
        assert ChannelDelivery.objects.get(pk=mail.pk).attempts == 2


def test_the_public_page_in_each_language(client, draft, approver):
    announcement = draft()
    with tenant_context(A):
        services.announcement_publish(announcement=announcement, actor=approver)
    url = f"/{A}/announcements/{announcement.pk}/"
    assert "避難所を開設しました" in client.get(url).content.decode()
    switched = client.get(url + "?lang=en")
    assert switched.status_code == 302 and switched.url == url
    assert "An evacuation shelter is open" in client.get(url).content.decode()
    client.get(url + "?lang=ja-easy")
    page = client.get(url).content.decode()
    assert "やさしい にほんごに なって いません" in page and 'lang="ja"' in page
    assert client.get(f"/{A}/announcements/").status_code == 200
    with tenant_context(A):
        hidden = draft()
    assert client.get(f"/{A}/announcements/{hidden.pk}/").status_code == 404


def _link(message, pattern: str) -> str:
    return re.search(pattern, message.get_content())[0]


def test_subscribe_confirm_and_unsubscribe_in_one_click(client, municipality_a, smtp_server):
    page = client.get(f"/{A}/announcements/subscribe/")
    assert page.status_code == 200
    response = client.post(
        f"/{A}/announcements/subscribe/",
        {"email": "hanako@example.jp", "categories": ["bousai", "kosodate"], "language": "en"},
    )
    assert response.status_code == 200
    (mail,) = smtp_server.wait_for(1)
    assert mail["To"] == "hanako@example.jp"
    confirm = _link(mail, r"https?://\S+/subscribe/confirm/\S+/")
    path = confirm.split("machi.example.jp", 1)[1]
    assert "hanako" not in path  # no address in URLs
    with tenant_context(A):
        assert Subscriber.objects.get().confirmed_at is None
    assert client.get(path).status_code == 200  # a scanner opening the link confirms nothing
    with tenant_context(A):
        assert Subscriber.objects.get().confirmed_at is None
    assert client.post(path).status_code == 200
    with tenant_context(A):
        subscriber = Subscriber.objects.get()
    assert subscriber.confirmed_at is not None
    assert subscriber.category_codes == ["bousai", "kosodate"] and subscriber.language == "en"
    assert client.post(path).status_code == 400  # the link works once

    # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click", no session, no token.
    one_click = Client(enforce_csrf_checks=True)
    stop = f"/{A}/announcements/unsubscribe/{subscriber.unsubscribe_token}/"
    response = one_click.post(stop, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    with tenant_context(A):
        assert not Subscriber.objects.exists()
    # The same answer for a token that names no one.
    assert one_click.post(stop, {"List-Unsubscribe": "One-Click"}).status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "not-an-address", "categories": ["bousai"], "language": "ja"}, "メール"),
        ({"email": "a@example.jp", "categories": [], "language": "ja"}, ""),
        ({"email": "a@example.jp", "categories": ["nothing"], "language": "ja"}, ""),
        ({"email": "a@example.jp", "categories": ["bousai"], "language": "ja",
          "website": "http://spam.example"}, "何も入力しないで"),
    ],
)  # fmt: skip
def test_bad_subscriptions_are_refused(client, municipality_a, smtp_server, data, message):
    response = client.post(f"/{A}/announcements/subscribe/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert smtp_server.received == []
    with tenant_context(A):
        assert not Subscriber.objects.exists()


def test_subscriptions_are_rate_limited_per_address(client, municipality_a, smtp_server):
    from django.core.cache import cache

    cache.clear()
    for n in range(5):
        response = client.post(
            f"/{A}/announcements/subscribe/",
            {"email": f"p{n}@example.jp", "categories": ["bousai"], "language": "ja"},
        )
        assert response.status_code == 200
    response = client.post(
        f"/{A}/announcements/subscribe/",
        {"email": "p9@example.jp", "categories": ["bousai"], "language": "ja"},
    )
    assert response.status_code == 429
    assert len(smtp_server.wait_for(5)) == 5
    with tenant_context(A):
        assert Subscriber.objects.count() == 5
    cache.clear()


def test_the_menu_leads_authors_and_approvers_to_the_announcements(
    signed_in, author, approver, make_staff, municipality_a
):
    link = f'href="{STAFF}"'
    for member in (author, approver):
        assert link in signed_in(member).get(f"/{A}/home/").content.decode()
    clerk = make_staff(municipality_a, ("shimin", "counter_clerk"), username="clerk")
    assert link not in signed_in(clerk).get(f"/{A}/home/").content.decode()


def test_unknown_links_answer_404_and_one_click_always_succeeds(client, municipality_a):
    confirm = client.get(f"/{A}/announcements/subscribe/confirm/nosuchsecret/")
    assert confirm.status_code == 404
    assert "確認のリンクが無効" in confirm.content.decode()
    assert "<form" not in confirm.content.decode().split("<main", 1)[-1]
    stop = f"/{A}/announcements/unsubscribe/nosuchtoken/"
    assert client.get(stop).status_code == 404
    # A mail client may repeat the one-click POST after the address is gone: still 200.
    assert client.post(stop, {"List-Unsubscribe": "One-Click"}).status_code == 200
