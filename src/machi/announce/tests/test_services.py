"""Writing, publishing and withdrawing: roles, tenants, bad input, the rows and events."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from machi.announce import services
from machi.announce.models import Announcement, ChannelDelivery, DeliveryState, Status
from machi.audit.models import AuditEntry
from machi.linkage.models import OutboxEvent
from machi.tenancy.context import tenant_context

from .conftest import A, B

pytestmark = pytest.mark.django_db(databases="__all__")


def test_an_author_drafts_but_may_not_publish(draft, author, in_a):
    announcement = draft(actor=author, category="kurashi")
    assert announcement.status == Status.DRAFT
    assert announcement.languages == ["ja", "en"]
    with pytest.raises(services.AnnouncementError, match="ウェブ承認者"):
        services.announcement_publish(announcement=announcement, actor=author)
    announcement.refresh_from_db()
    assert announcement.status == Status.DRAFT
    assert not ChannelDelivery.objects.exists()
    assert not OutboxEvent.objects.filter(type=services.PUBLISHED).exists()


def test_staff_without_a_web_role_may_not_write(make_staff, municipality_a, in_a):
    clerk = make_staff(municipality_a, ("shimin", "counter_clerk"))
    with pytest.raises(services.AnnouncementError, match="ウェブ作成者"):
        services.announcement_create(
            actor=clerk, title={"ja": "件名"}, body={"ja": "本文"}, category="kurashi"
        )
    assert not Announcement.objects.exists()


def test_staff_of_another_municipality_may_not_publish_here(draft, approver_b, in_a):
    announcement = draft()
    with pytest.raises(services.AnnouncementError):
        services.announcement_publish(announcement=announcement, actor=approver_b)
    with pytest.raises(services.AnnouncementError):
        services.announcement_create(
            actor=approver_b, title={"ja": "件名"}, body={"ja": "本文"}, category="kurashi"
        )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": {"ja": ""}, "body": {"ja": "本文"}}, "日本語の件名"),
        ({"title": {"ja": "件名"}, "body": {"ja": ""}}, "日本語の本文"),
        ({"title": {"ja": "件名", "en": "Title"}, "body": {"ja": "本文"}}, "両方"),
        ({"title": {"ja": "件名", "fr": "Titre"}, "body": {"ja": "本文"}}, "対応していない言語"),
        ({"title": {"ja": "件" * 201}, "body": {"ja": "本文"}}, "200文字以内"),
        ({"category": "nothing"}, "分類「nothing」はありません"),
        ({"urgency": "Now"}, "緊急度"),
        ({"area_polygon": "35.6,139.7 35.7,139.8"}, "4点以上"),
        ({"area_polygon": "35.6,139.7 35.7,139.8 35.7,139.7 35.61,139.7"}, "閉じた図形"),
        ({"area_polygon": "95,139.7 35.7,139.8 35.7,139.7 95,139.7"}, "範囲"),
        ({"area_circle": "35.6,139.7"}, "半径"),
        ({"valid_until": datetime.datetime(2030, 1, 1)}, "タイムゾーン"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(approver, in_a, fields, message):
    arguments = {"title": {"ja": "件名"}, "body": {"ja": "本文"}, "category": "kurashi", **fields}
    with pytest.raises(services.AnnouncementError, match=message):
        services.announcement_create(actor=approver, **arguments)
    assert not Announcement.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="announce.").exists()


def test_publishing_writes_the_event_the_pulled_channels_and_pending_pushed_ones(
    draft, approver, in_a
):
    announcement = draft(area_name="千代田区全域")
    published = services.announcement_publish(announcement=announcement, actor=approver)
    assert published.status == Status.PUBLISHED
    # 防災 without an expiry: valid for a day (the CAP feed needs one).
    assert published.valid_until == published.published_at + services.DEFAULT_BOUSAI_VALIDITY
    states = dict(ChannelDelivery.objects.values_list("channel", "state"))
    assert states == {
        "feeds": DeliveryState.SENT, "webhook": DeliveryState.SENT, "cap": DeliveryState.SENT,
        "news": DeliveryState.PENDING, "mail": DeliveryState.PENDING,
        "activitypub": DeliveryState.PENDING,
    }  # fmt: skip
    event = OutboxEvent.objects.get(type=services.PUBLISHED)
    assert event.subject == str(announcement.pk)
    assert event.data["category"] == "bousai"
    assert event.data["url"].endswith(f"/{A}/announcements/{announcement.pk}/")
    assert AuditEntry.objects.filter(action="announce.announcement.published").count() == 1
    with pytest.raises(services.AnnouncementError, match="公開済み"):
        services.announcement_publish(announcement=announcement, actor=approver)


def test_a_non_bousai_announcement_has_no_cap_channel(draft, approver, in_a):
    announcement = draft(category="kosodate")
    services.announcement_publish(announcement=announcement, actor=approver)
    assert not ChannelDelivery.objects.filter(channel="cap").exists()
    announcement.refresh_from_db()
    assert announcement.valid_until is None


def test_an_expired_draft_is_not_published(draft, approver, in_a):
    announcement = draft(valid_until=timezone.now() - datetime.timedelta(minutes=1))
    with pytest.raises(services.AnnouncementError, match="有効期限"):
        services.announcement_publish(announcement=announcement, actor=approver)


def test_withdrawing_stops_what_has_not_gone_out(draft, approver, in_a):
    announcement = draft()
    services.announcement_publish(announcement=announcement, actor=approver)
    services.announcement_withdraw(announcement=announcement, actor=approver)
    announcement.refresh_from_db()
    assert announcement.status == Status.WITHDRAWN
    mail = ChannelDelivery.objects.get(channel="mail", action="publish")
    assert mail.state == DeliveryState.FAILED
    assert ChannelDelivery.objects.get(channel="news", action="withdraw").state == "pending"
    assert OutboxEvent.objects.filter(type=services.WITHDRAWN).count() == 1
    with pytest.raises(services.AnnouncementError, match="取り下げたお知らせは再送できません"):
        services.delivery_retry(delivery=mail, actor=approver)
    with pytest.raises(services.AnnouncementError, match="公開中のお知らせだけ"):
        services.announcement_withdraw(announcement=announcement, actor=approver)


def test_a_published_announcement_is_not_edited_but_corrected(draft, approver, in_a):
    original = draft()
    services.announcement_publish(announcement=original, actor=approver)
    original.refresh_from_db()
    with pytest.raises(services.AnnouncementError, match="編集できません"):
        services.announcement_update(announcement=original, actor=approver, area_name="丸の内")
    correction = draft(supersedes=original, title_ja="避難所の訂正")
    assert correction.supersedes_id == original.pk
    updated = services.announcement_update(
        announcement=correction, actor=approver, area_name="丸の内一丁目"
    )
    assert updated.area_name == "丸の内一丁目"


def test_the_same_ids_in_two_municipalities_are_separate(draft, approver, approver_b):
    a = draft()
    b = draft(lg=B, actor=approver_b)
    with tenant_context(B):
        services.announcement_publish(announcement=b, actor=approver_b)
        assert Announcement.objects.count() == 1
    with tenant_context(A):
        assert Announcement.objects.get().pk == a.pk
        assert Announcement.objects.get().status == Status.DRAFT
