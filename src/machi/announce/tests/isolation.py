"""The announcements' objects for the isolation test (machi.web.tests.objects), made
through the services by the world's staff (who holds ウェブ作成者 and ウェブ承認者): a
published 防災 announcement whose mail channel failed (the retry button's object), a
draft, a pending subscription's confirmation secret and a subscriber's unsubscribe
token. Call them inside the municipality's tenant_context."""

from __future__ import annotations

from typing import Any

from machi.tenancy.context import tenant_context


def _draft(staff: Any) -> Any:
    from machi.announce import services

    return services.announcement_create(
        actor=staff, title={"ja": "分離確認のお知らせ"}, body={"ja": "本文です。"},
        category="bousai", area_name="全域",
    )  # fmt: skip


def announce_draft(staff: Any) -> Any:
    return _draft(staff)


def announce_published(staff: Any) -> Any:
    """Published, with its mail delivery failed (its id on ``failed_delivery``)."""
    from machi.announce import services
    from machi.announce.models import ChannelDelivery, DeliveryState

    announcement = services.announcement_publish(announcement=_draft(staff), actor=staff)
    mail = ChannelDelivery.objects.get(announcement=announcement, channel="mail")
    ChannelDelivery.objects.filter(pk=mail.pk).update(
        state=DeliveryState.FAILED, attempts=8, next_attempt_at=None,
        last_error="SMTPServerDisconnected",
    )  # fmt: skip
    announcement.failed_delivery = mail.pk
    announcement.delivery_pks = list(announcement.deliveries.values_list("pk", flat=True))
    return announcement


def confirm_secret(staff: Any) -> str:
    from machi.announce import services

    _, secret = services.subscription_request(
        email=f"isolation-{staff.municipality.lg_code}@example.jp",
        categories=["bousai"], language="ja",
    )  # fmt: skip
    return secret


def unsubscribe_token(staff: Any) -> str:
    from machi.announce import services

    _, secret = services.subscription_request(
        email=f"isolation-confirmed-{staff.municipality.lg_code}@example.jp",
        categories=["kurashi"], language="en",
    )  # fmt: skip
    return services.subscription_confirm(secret=secret).unsubscribe_token


def clash(avoid: str | None, made: Any) -> bool:
    """Whether ``made``'s id (or one of its deliveries' ids) names an object at ``avoid``;
    secrets and tokens are random and never clash."""
    from machi.announce.models import Announcement, ChannelDelivery

    if avoid is None or isinstance(made, str):
        return False
    with tenant_context(avoid):
        return (
            Announcement.objects.filter(pk=made.pk).exists()
            or ChannelDelivery.objects.filter(pk__in=getattr(made, "delivery_pks", [])).exists()
        )
