"""The interface machi.announce calls: news_item_publish / news_item_withdraw."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from machi.audit.models import AuditEntry
from machi.site import selectors, services
from machi.site.models import NewsItem, Status, Version
from machi.tenancy.context import tenant_context

from .conftest import A

pytestmark = pytest.mark.django_db(databases="__all__")


def _publish(announcement_id=7, **changes):
    values = {
        "title": {"ja": "断水のお知らせ", "en": "Water outage"},
        "body": {"ja": "**12月10日** 9時から断水します。"},
        "category": "bosai",
        "published_at": timezone.now(),
        "announcement_id": announcement_id,
    }
    values.update(changes)
    return services.news_item_publish(**values)


def test_publish_is_live_and_idempotent_per_announcement(municipality_a):
    with tenant_context(A):
        item = _publish()
        assert item.status == Status.PUBLISHED and item.category == "bosai"
        assert item.get_absolute_url() == f"/{A}/news/{item.pk}/"
        assert selectors.news_public(pk=item.pk) == item
        again = _publish()
        assert again.pk == item.pk and Version.objects.filter(news=item).count() == 1
        changed = _publish(title={"ja": "断水のお知らせ（時間変更）"})
        assert changed.pk == item.pk and Version.objects.filter(news=item).count() == 2
        assert changed.title == {"ja": "断水のお知らせ（時間変更）"}
        assert AuditEntry.objects.filter(action="site.publish", object_id=str(item.pk)).count() == 2


def test_withdraw_ends_the_item_and_is_quiet_without_one(municipality_a):
    with tenant_context(A):
        item = _publish(announcement_id=8)
        services.news_item_withdraw(announcement_id=8)
        item.refresh_from_db()
        assert item.status == Status.ENDED and selectors.news_public(pk=item.pk) is None
        services.news_item_withdraw(announcement_id=999)  # nothing to end
        assert NewsItem.objects.count() == 1


def test_publish_refuses_missing_japanese_and_changes_nothing(municipality_a):
    with tenant_context(A), pytest.raises(services.SiteError):
        _publish(title={"en": "Only English"})
    with tenant_context(A):
        assert not NewsItem.objects.exists()


def test_publish_without_announcement_creates_each_time(municipality_a):
    with tenant_context(A):
        when = timezone.now() - datetime.timedelta(hours=1)
        first = _publish(announcement_id=None, published_at=when)
        second = _publish(announcement_id=None, published_at=when)
        assert first.pk != second.pk and first.published_at == when
