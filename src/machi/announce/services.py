"""Writes on announcements: draft, publish (fan-out to every channel), withdraw, retry a
channel; mail subscriptions (request, confirm, unsubscribe).

Staff with ウェブ作成者 write drafts; ウェブ承認者 publishes and withdraws (one person may
hold both). Every write is one transaction on the municipality's database with its audit
entry. Publishing writes the webhook event to the outbox and marks the pulled channels
(feeds, CAP) in the same transaction; the pushed channels (news, mail, ActivityPub) get a
delivery row each and run after the commit, each on its own (:mod:`machi.announce.delivery`).
"""

from __future__ import annotations

import datetime
import hashlib
import re
import secrets
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from machi.accounts.roles import Role
from machi.announce.models import (
    LANGUAGES,
    Action,
    Announcement,
    Category,
    Certainty,
    Channel,
    ChannelDelivery,
    DeliveryState,
    Severity,
    Status,
    Subscriber,
    Urgency,
)
from machi.audit.services import Terminal, audit_append
from machi.linkage.services import outbox_append
from machi.tenancy.context import current_lg_code, current_tenant_alias

PUBLISHED = "jp.machi.announcement.published"
WITHDRAWN = "jp.machi.announcement.withdrawn"
BOUSAI = "bousai"  # the category whose announcements also go out as CAP alerts
DEFAULT_BOUSAI_VALIDITY = datetime.timedelta(hours=24)
MAX_TITLE = 200
MAX_BODY = 20_000
CONFIRM_VALIDITY = datetime.timedelta(days=3)
PUSHED = (Channel.NEWS, Channel.MAIL, Channel.ACTIVITYPUB)

_PAIR = r"-?\d{1,2}(?:\.\d+)?,-?\d{1,3}(?:\.\d+)?"
_CIRCLE = re.compile(rf"^{_PAIR} \d+(?:\.\d+)?$")


class AnnouncementError(ValidationError):
    """Refused; the message says why (``field``: which input); nothing was written."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def _function(command_line: bool) -> str:
    return "announce CLI" if command_line else "announce"


def _atomic() -> Any:
    return transaction.atomic(using=current_tenant_alias())


def _of_here(actor: Any) -> bool:
    municipality = getattr(actor, "municipality", None)
    return municipality is not None and municipality.lg_code == current_lg_code()


def may_write(actor: Any) -> bool:
    return _of_here(actor) and actor.has_role(Role.WEB_AUTHOR, Role.WEB_APPROVER)


def may_publish(actor: Any) -> bool:
    return _of_here(actor) and actor.has_role(Role.WEB_APPROVER)


def _clean_text(value: Any, label: str, limit: int, field: str) -> str:
    value = str(value or "").replace("\r\n", "\n").strip()
    if len(value) > limit:
        raise AnnouncementError(
            _("%(label)sは%(limit)s文字以内で入力してください。")
            % {"label": label, "limit": limit},
            field,
        )
    if "\x00" in value:
        raise AnnouncementError(
            _("%(label)sに使えない文字が含まれています。") % {"label": label}, field
        )
    return value


def _clean_texts(title: dict[str, str], body: dict[str, str]) -> tuple[dict, dict]:
    unknown = (set(title) | set(body)) - set(LANGUAGES)
    if unknown:
        raise AnnouncementError(
            _("対応していない言語です: %(codes)s") % {"codes": ", ".join(sorted(unknown))}, "title"
        )
    titles, bodies = {}, {}
    for code in LANGUAGES:
        t = _clean_text(title.get(code), _("件名"), MAX_TITLE, f"title_{code}")
        b = _clean_text(body.get(code), _("本文"), MAX_BODY, f"body_{code}")
        if code == "ja" and not t:
            raise AnnouncementError(_("日本語の件名を入力してください。"), "title_ja")
        if code == "ja" and not b:
            raise AnnouncementError(_("日本語の本文を入力してください。"), "body_ja")
        if bool(t) != bool(b):
            raise AnnouncementError(
                _("件名と本文は両方入力するか、両方空にしてください。"), f"title_{code}"
            )
        if t:
            titles[code], bodies[code] = t, b
    return titles, bodies


def polygon_problem(value: str) -> str:
    """Why a CAP polygon ("lat,lon lat,lon …", first pair = last pair) is refused; ""."""
    pairs = value.split()
    if len(pairs) < 4 or any(not re.fullmatch(_PAIR, p) for p in pairs):
        return _("多角形は「緯度,経度」を空白で区切って4点以上入力してください。")
    if pairs[0] != pairs[-1]:
        return _("多角形の最初の点と最後の点を同じにしてください（閉じた図形）。")
    if any(not _in_range(p) for p in pairs):
        return _("緯度は-90〜90、経度は-180〜180の範囲で入力してください。")
    return ""


def _in_range(pair: str) -> bool:
    lat, lon = (float(x) for x in pair.split(","))
    return -90 <= lat <= 90 and -180 <= lon <= 180


def circle_problem(value: str) -> str:
    if not _CIRCLE.match(value) or not _in_range(value.split()[0]):
        return _("円は「緯度,経度 半径（km）」の形で入力してください（例: 35.69,139.75 2.5）。")
    return ""


def _fields(
    *, title: dict[str, str], body: dict[str, str], category: str, urgency: str,
    severity: str, certainty: str, area_name: str, area_polygon: str, area_circle: str,
    valid_until: datetime.datetime | None, supersedes: Announcement | None,
) -> dict[str, Any]:  # fmt: skip
    titles, bodies = _clean_texts(title, body)
    if not Category.objects.filter(code=category).exists():
        raise AnnouncementError(
            _("分類「%(code)s」はありません。") % {"code": category}, "category"
        )
    for value, choices, label, field in (
        (urgency, Urgency, _("緊急度"), "urgency"),
        (severity, Severity, _("深刻度"), "severity"),
        (certainty, Certainty, _("確度"), "certainty"),
    ):
        if value not in choices.values:
            raise AnnouncementError(
                _("%(label)sの値「%(value)s」は選べません。") % {"label": label, "value": value},
                field,
            )
    area_name = _clean_text(area_name, _("対象地域"), 200, "area_name")
    area_polygon = " ".join((area_polygon or "").split())
    area_circle = " ".join((area_circle or "").split())
    if area_polygon and (problem := polygon_problem(area_polygon)):
        raise AnnouncementError(problem, "area_polygon")
    if area_circle and (problem := circle_problem(area_circle)):
        raise AnnouncementError(problem, "area_circle")
    if valid_until is not None and timezone.is_naive(valid_until):
        raise AnnouncementError(_("有効期限にはタイムゾーンが必要です。"), "valid_until")
    if supersedes is not None and supersedes.status != Status.PUBLISHED:
        raise AnnouncementError(_("訂正できるのは公開中のお知らせだけです。"), "supersedes")
    return {
        "title": titles, "body": bodies, "category": category, "urgency": urgency,
        "severity": severity, "certainty": certainty, "area_name": area_name,
        "area_polygon": area_polygon, "area_circle": area_circle, "valid_until": valid_until,
        "supersedes": supersedes,
    }  # fmt: skip


def announcement_create(
    *, actor: Any, title: dict[str, str], body: dict[str, str], category: str,
    urgency: str = Urgency.UNKNOWN, severity: str = Severity.UNKNOWN,
    certainty: str = Certainty.LIKELY, area_name: str = "", area_polygon: str = "",
    area_circle: str = "", valid_until: datetime.datetime | None = None,
    supersedes: Announcement | None = None, terminal: Terminal | None = None,
    now: datetime.datetime | None = None, command_line: bool = False,
) -> Announcement:  # fmt: skip
    """A draft (ウェブ作成者 or ウェブ承認者 of this municipality; ``command_line``: the
    operator's ``machi announce``, with no staff member, audited as such)."""
    if not (command_line and actor is None) and not may_write(actor):
        raise AnnouncementError(
            _("お知らせを作成する権限がありません（ウェブ作成者ではありません）。")
        )
    now = now or timezone.now()
    fields = _fields(
        title=title, body=body, category=category, urgency=urgency, severity=severity,
        certainty=certainty, area_name=area_name, area_polygon=area_polygon,
        area_circle=area_circle, valid_until=valid_until, supersedes=supersedes,
    )  # fmt: skip
    with _atomic():
        announcement = Announcement.objects.create(
            **fields, created_at=now, updated_at=now, created_by_id=getattr(actor, "pk", None)
        )
        audit_append(
            action="announce.announcement.created", actor=actor, object_type="announcement",
            object_id=str(announcement.pk), function=_function(command_line),
            terminal=terminal, detail={"category": category, "languages": announcement.languages},
        )  # fmt: skip
    return announcement


def announcement_update(
    *, announcement: Announcement, actor: Any, terminal: Terminal | None = None,
    now: datetime.datetime | None = None, **changes: Any,
) -> Announcement:  # fmt: skip
    """Change a draft (published announcements are corrected by a new one that
    supersedes them: CAP msgType Update)."""
    if not may_write(actor):
        raise AnnouncementError(
            _("お知らせを編集する権限がありません（ウェブ作成者ではありません）。")
        )
    if announcement.status != Status.DRAFT:
        raise AnnouncementError(
            _("公開したお知らせは編集できません。訂正のお知らせを作成してください。")
        )
    current = {
        name: getattr(announcement, name)
        for name in (
            "title", "body", "category", "urgency", "severity", "certainty", "area_name",
            "area_polygon", "area_circle", "valid_until", "supersedes",
        )
    }  # fmt: skip
    unknown = set(changes) - set(current)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    fields = _fields(**{**current, **changes})
    with _atomic():
        for name, value in fields.items():
            setattr(announcement, name, value)
        announcement.updated_at = now or timezone.now()
        announcement.save()
        audit_append(
            action="announce.announcement.updated", actor=actor, object_type="announcement",
            object_id=str(announcement.pk), function="announce", terminal=terminal,
            detail={"fields": sorted(changes)},
        )  # fmt: skip
    return announcement


def _enqueue_delivery(lg_code: str, announcement_id: int) -> None:
    from machi.announce.tasks import announce_deliver_task

    try:
        announce_deliver_task.enqueue(lg_code, announcement_id)
    except Exception:  # the rows stay pending: the periodic retry runs them
        import logging

        logging.getLogger(__name__).warning(
            "announcement %s delivery could not be enqueued", announcement_id, exc_info=True
        )


def _event_data(announcement: Announcement) -> dict[str, Any]:
    from machi.announce.links import absolute

    return {
        "announcement_id": announcement.pk,
        "category": announcement.category,
        "urgency": announcement.urgency,
        "severity": announcement.severity,
        "languages": announcement.languages,
        "url": absolute(announcement.get_absolute_url()),
    }


def announcement_publish(
    *, announcement: Announcement, actor: Any, terminal: Terminal | None = None,
    now: datetime.datetime | None = None, command_line: bool = False,
) -> Announcement:  # fmt: skip
    """Publish a draft to every channel (ウェブ承認者). The webhook event and the pulled
    channels are done in this transaction; the pushed ones run after the commit, each on
    its own, and a failure there retries without holding up the others."""
    if not (command_line and actor is None) and not may_publish(actor):
        raise AnnouncementError(
            _("お知らせを公開する権限がありません（ウェブ承認者ではありません）。")
        )
    now = now or timezone.now()
    with _atomic():
        locked = Announcement.objects.select_for_update().get(pk=announcement.pk)
        if locked.status != Status.DRAFT:
            raise AnnouncementError(_("このお知らせは公開済みか取り下げ済みです。"))
        if locked.valid_until is not None and locked.valid_until <= now:
            raise AnnouncementError(
                _("有効期限が過ぎています。有効期限を直してください。"), "valid_until"
            )
        if locked.supersedes_id and locked.supersedes.status != Status.PUBLISHED:
            raise AnnouncementError(_("訂正するお知らせが公開中ではありません。"), "supersedes")
        if locked.category == BOUSAI and locked.valid_until is None:
            locked.valid_until = now + DEFAULT_BOUSAI_VALIDITY
        locked.status = Status.PUBLISHED
        locked.published_at = locked.updated_at = now
        locked.published_by_id = getattr(actor, "pk", None)
        locked.save()
        outbox_append(type=PUBLISHED, subject=str(locked.pk), data=_event_data(locked), time=now)
        pulled = [Channel.FEEDS, Channel.WEBHOOK]
        if locked.category == BOUSAI:
            pulled.append(Channel.CAP)
        rows = [
            ChannelDelivery(
                announcement=locked, channel=channel, state=DeliveryState.SENT,
                attempts=1, sent_at=now, updated_at=now,
            )
            for channel in pulled
        ] + [
            ChannelDelivery(
                announcement=locked, channel=channel, state=DeliveryState.PENDING,
                next_attempt_at=now, updated_at=now,
            )
            for channel in PUSHED
        ]  # fmt: skip
        ChannelDelivery.objects.bulk_create(rows)
        audit_append(
            action="announce.announcement.published", actor=actor, object_type="announcement",
            object_id=str(locked.pk), function=_function(command_line), terminal=terminal,
            detail={"category": locked.category, "channels": [r.channel for r in rows]},
        )  # fmt: skip
        transaction.on_commit(
            partial(_enqueue_delivery, current_lg_code(), locked.pk), using=current_tenant_alias()
        )
    return locked


def announcement_withdraw(
    *, announcement: Announcement, actor: Any, terminal: Terminal | None = None,
    now: datetime.datetime | None = None,
) -> Announcement:  # fmt: skip
    """Take a published announcement back (ウェブ承認者): off the news and the feeds, a
    CAP Cancel for 防災, the webhook event ``…withdrawn``. Mail already sent stays sent."""
    if not may_publish(actor):
        raise AnnouncementError(
            _("お知らせを取り下げる権限がありません（ウェブ承認者ではありません）。")
        )
    now = now or timezone.now()
    with _atomic():
        locked = Announcement.objects.select_for_update().get(pk=announcement.pk)
        if locked.status != Status.PUBLISHED:
            raise AnnouncementError(_("公開中のお知らせだけを取り下げられます。"))
        locked.status = Status.WITHDRAWN
        locked.withdrawn_at = locked.updated_at = now
        locked.save()
        # What has not gone out yet is not sent any more.
        ChannelDelivery.objects.filter(
            announcement=locked, action=Action.PUBLISH,
            state__in=[DeliveryState.PENDING, DeliveryState.RETRYING],
        ).update(
            state=DeliveryState.FAILED, next_attempt_at=None, updated_at=now,
            last_error="取り下げたため送信しません。",
        )  # fmt: skip
        outbox_append(type=WITHDRAWN, subject=str(locked.pk), data=_event_data(locked), time=now)
        rows = [
            ChannelDelivery(
                announcement=locked, channel=Channel.WEBHOOK, action=Action.WITHDRAW,
                state=DeliveryState.SENT, attempts=1, sent_at=now, updated_at=now,
            ),
            ChannelDelivery(
                announcement=locked, channel=Channel.NEWS, action=Action.WITHDRAW,
                state=DeliveryState.PENDING, next_attempt_at=now, updated_at=now,
            ),
        ]  # fmt: skip
        ChannelDelivery.objects.bulk_create(rows)
        # ActivityPub followers get a Delete (queued in this transaction, sent by its worker).
        from machi.activitypub.services import note_delete
        from machi.announce.delivery import note_key

        note_delete(object_key=note_key(locked), deleted=now)
        audit_append(
            action="announce.announcement.withdrawn",
            actor=actor,
            object_type="announcement",
            object_id=str(locked.pk),
            function="announce",
            terminal=terminal,
        )
        transaction.on_commit(
            partial(_enqueue_delivery, current_lg_code(), locked.pk), using=current_tenant_alias()
        )
    return locked


def delivery_retry(
    *, delivery: ChannelDelivery, actor: Any, terminal: Terminal | None = None,
    now: datetime.datetime | None = None,
) -> ChannelDelivery:  # fmt: skip
    """Staff's retry button: a failed or retrying channel is tried again at once."""
    if not may_publish(actor):
        raise AnnouncementError(_("再送する権限がありません（ウェブ承認者ではありません）。"))
    if delivery.action == Action.PUBLISH and delivery.announcement.status != Status.PUBLISHED:
        raise AnnouncementError(_("取り下げたお知らせは再送できません。"))
    now = now or timezone.now()
    with _atomic():
        updated = ChannelDelivery.objects.filter(
            pk=delivery.pk, state__in=[DeliveryState.FAILED, DeliveryState.RETRYING]
        ).update(state=DeliveryState.RETRYING, next_attempt_at=now, updated_at=now)
        if not updated:
            raise AnnouncementError(_("送信済みか送信待ちの配信は再送できません。"))
        audit_append(
            action="announce.delivery.retried", actor=actor, object_type="announcement",
            object_id=str(delivery.announcement_id), function="announce", terminal=terminal,
            detail={"channel": delivery.channel, "action": delivery.action},
        )  # fmt: skip
        transaction.on_commit(
            partial(_enqueue_delivery, current_lg_code(), delivery.announcement_id),
            using=current_tenant_alias(),
        )
    delivery.refresh_from_db()
    return delivery


# --- mail subscriptions ------------------------------------------------------------------------


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _codes(categories: list[str]) -> str:
    return "," + ",".join(sorted(set(categories))) + "," if categories else ""


def subscription_request(
    *, email: str, categories: list[str], language: str, now: datetime.datetime | None = None
) -> tuple[Subscriber, str]:
    """Record the wish and return (subscriber, secret) for the confirmation link; nothing
    is sent to the address until the link is opened. An address already subscribed keeps
    its categories until then (someone else may have typed it)."""
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise AnnouncementError(_("メールアドレスの形式が正しくありません。"), "email") from None
    if len(email) > 254:
        raise AnnouncementError(_("メールアドレスが長すぎます。"), "email")
    known = set(Category.objects.values_list("code", flat=True))
    if not categories or not set(categories) <= known:
        raise AnnouncementError(_("受け取る分類を1つ以上選んでください。"), "categories")
    if language not in LANGUAGES:
        raise AnnouncementError(_("言語を選んでください。"), "language")
    now = now or timezone.now()
    secret = secrets.token_urlsafe(32)
    with _atomic():
        subscriber = Subscriber.objects.filter(email__iexact=email).first()
        if subscriber is None:
            subscriber = Subscriber(
                email=email, unsubscribe_token=secrets.token_urlsafe(32), created_at=now
            )
        subscriber.pending_categories = _codes(categories)
        subscriber.pending_language = language
        subscriber.confirm_hash = secret_hash(secret)
        subscriber.confirm_expires_at = now + CONFIRM_VALIDITY
        subscriber.save()
    return subscriber, secret


def subscription_confirm(*, secret: str, now: datetime.datetime | None = None) -> Subscriber:
    now = now or timezone.now()
    with _atomic():
        subscriber = (
            Subscriber.objects.select_for_update()
            .filter(confirm_hash=secret_hash(secret or ""), confirm_expires_at__gt=now)
            .first()
        )
        if subscriber is None:
            raise AnnouncementError(
                _("確認のリンクが無効か、期限が切れています。もう一度登録してください。")
            )
        subscriber.categories = subscriber.pending_categories
        subscriber.language = subscriber.pending_language or "ja"
        subscriber.pending_categories = subscriber.pending_language = subscriber.confirm_hash = ""
        subscriber.confirm_expires_at = None
        subscriber.confirmed_at = subscriber.confirmed_at or now
        subscriber.save()
    return subscriber


def subscription_cancel(*, token: str) -> bool:
    """Unsubscribe (the address is deleted); False when the token names no one."""
    if not token:
        return False
    with _atomic():
        deleted, _by_model = Subscriber.objects.filter(unsubscribe_token=token).delete()
    return bool(deleted)


def subscriptions_expire(*, now: datetime.datetime | None = None) -> int:
    """Delete addresses whose confirmation link expired unused (never confirmed)."""
    now = now or timezone.now()
    with _atomic():
        deleted, _by_model = Subscriber.objects.filter(
            confirmed_at__isnull=True, confirm_expires_at__lte=now
        ).delete()
    return deleted
