"""Writes on local events: submit, confirm, edit, approve, reject, hide, restore, report,
post and cancel official events.

Every write is one transaction on the tenant database. Moderators' and staff's actions
go to the audit log with their reason (never the organiser's mail address) and to the
event's own history (:class:`~machi.localevents.models.Action`). A refused write raises
:class:`EventError` whose messages are keyed by the form field they concern, and
changes nothing.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from machi.accounts.roles import Role
from machi.audit.services import Terminal, audit_append
from machi.localevents import abuse, mail
from machi.localevents.models import (
    LANGUAGES,
    Action,
    CalendarSettings,
    Category,
    Event,
    Organiser,
    Report,
    Status,
)
from machi.tenancy.context import current_lg_code, current_tenant_alias

MAX_TITLE = 120
MAX_DESCRIPTION = 4000
MAX_REASON = 500
# Japan with its remote islands (Okinotorishima to Etorofu, Yonaguni to Minamitorishima).
JAPAN_LAT = (Decimal("20.0"), Decimal("46.0"))
JAPAN_LONG = (Decimal("122.0"), Decimal("154.0"))
MAX_DAYS = 366


class EventError(ValidationError):
    """An event operation was refused; ``message_dict`` names the fields (nothing written)."""


@dataclass
class EventData:
    """What an event says; the form's cleaned data or a service caller's values."""

    title: dict[str, str]
    description: dict[str, str]
    starts_on: datetime.date
    ends_on: datetime.date
    place_name: str
    category: Category
    start_time: datetime.time | None = None
    end_time: datetime.time | None = None
    title_kana: str = ""
    address: str = ""
    lat: Any = None
    long: Any = None
    fee_yen: Any = 0
    fee_note: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    contact_public: bool = False
    url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _atomic() -> Any:
    return transaction.atomic(using=current_tenant_alias())


def _field(key: str, language: str) -> str:
    return f"{key}_{language.replace('-', '_')}"  # the form's field: title_ja_easy


def _texts(values: dict[str, str], label: str, limit: int, errors: dict, key: str) -> dict:
    cleaned = {}
    for language in LANGUAGES:
        text = (values.get(language) or "").strip()
        if len(text) > limit:
            errors[_field(key, language)] = f"{label}は{limit}文字以内で入力してください。"
        elif problem := abuse.text_problem(text):
            errors[_field(key, language)] = problem
        elif text:
            cleaned[language] = text
    return cleaned


def event_data_errors(data: EventData) -> dict[str, str]:
    """Field name → why it is refused (empty when the event may be saved)."""
    errors: dict[str, str] = {}
    data.title = _texts(data.title, "イベント名", MAX_TITLE, errors, "title")
    data.description = _texts(data.description, "説明", MAX_DESCRIPTION, errors, "description")
    if "ja" not in data.title and "title_ja" not in errors:
        errors["title_ja"] = "イベント名（日本語）を入力してください。"
    if "ja" not in data.description and "description_ja" not in errors:
        errors["description_ja"] = "説明（日本語）を入力してください。"
    if data.starts_on and data.ends_on:
        if data.ends_on < data.starts_on:
            errors["ends_on"] = "終了日は開始日と同じか、それより後にしてください。"
        elif (data.ends_on - data.starts_on).days > MAX_DAYS:
            errors["ends_on"] = "期間は1年以内にしてください。"
    if (data.start_time is None) != (data.end_time is None):
        errors["end_time" if data.end_time is None else "start_time"] = (
            "開始時間と終了時間は両方入力してください（終日の場合は両方空けてください）。"
        )
    elif (
        data.start_time is not None
        and data.starts_on == data.ends_on
        and data.end_time <= data.start_time
        and "ends_on" not in errors
    ):
        errors["end_time"] = "終了時間は開始時間より後にしてください。"
    data.place_name = (data.place_name or "").strip()
    if not data.place_name:
        errors["place_name"] = "場所の名前を入力してください。"
    limits = {"place_name": 100, "address": 200, "title_kana": 200, "fee_note": 200,
              "contact_name": 100, "contact_phone": 30}  # fmt: skip
    for name, limit in limits.items():
        value = (getattr(data, name) or "").strip()
        setattr(data, name, value)
        if "\n" in value:
            errors.setdefault(name, "1行で入力してください。")
        elif len(value) > limit:
            errors.setdefault(name, f"{limit}文字以内で入力してください。")
        elif problem := abuse.text_problem(value):
            errors.setdefault(name, problem)
    try:
        fee = int(data.fee_yen if data.fee_yen not in (None, "") else 0)
    except (TypeError, ValueError):
        errors["fee_yen"] = "料金は円の整数で入力してください（無料は 0）。"
    else:
        if fee < 0:
            errors["fee_yen"] = "料金は 0 円以上で入力してください（無料は 0）。"
        elif fee > 10_000_000:
            errors["fee_yen"] = "料金が大きすぎます。"
        data.fee_yen = fee
    _point(data, errors)
    if data.contact_public and not (data.contact_name or data.contact_phone):
        errors["contact_name"] = "公開する連絡先を入力してください。"
    if data.url and not data.url.startswith(("https://", "http://")):
        errors["url"] = "URL は https:// で始めてください。"
    return errors


def _point(data: EventData, errors: dict[str, str]) -> None:
    if data.lat in (None, "") and data.long in (None, ""):
        data.lat = data.long = None
        return
    try:
        lat, long = Decimal(str(data.lat)), Decimal(str(data.long))
    except InvalidOperation:
        errors["lat"] = "緯度と経度は両方、数値で入力してください。"
        return
    if not (lat.is_finite() and long.is_finite()):
        errors["lat"] = "緯度と経度は両方、数値で入力してください。"
    elif not (JAPAN_LAT[0] <= lat <= JAPAN_LAT[1] and JAPAN_LONG[0] <= long <= JAPAN_LONG[1]):
        errors["lat"] = "地図の位置が日本の外です。位置を選び直してください。"
    else:
        data.lat = lat.quantize(Decimal("0.000001"))
        data.long = long.quantize(Decimal("0.000001"))


def _checked(data: EventData) -> dict[str, Any]:
    errors = event_data_errors(data)
    if errors:
        raise EventError(errors)
    return {f.name: getattr(data, f.name) for f in fields(EventData) if f.name != "extra"}


def _actor_fields(actor: Any | None) -> tuple[int | None, str]:
    return getattr(actor, "pk", None), getattr(actor, "username", "") or ""


def _log(event: Event, kind: str, *, actor: Any = None, reason: str = "", now=None) -> None:
    staff_id, username = _actor_fields(actor)
    Action.objects.create(
        event=event, kind=kind, reason=reason[:MAX_REASON], staff_id=staff_id,
        staff_username=username, created_at=now or timezone.now(),
    )  # fmt: skip


def _audit(action: str, event: Event, actor: Any, terminal: Terminal | None, **detail) -> None:
    audit_append(
        action=f"localevents.event.{action}", actor=actor, object_type="local_event",
        object_id=str(event.pk), function="localevents", terminal=terminal,
        detail={"status": event.status, **detail},
    )  # fmt: skip


def _locked(event: Event) -> Event:
    return Event.objects.select_for_update().get(pk=event.pk)


# --- residents' groups -----------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    event: Event
    confirm_secret: str  # goes out in the confirmation mail only


def event_submit(
    *, data: EventData, organiser_name: str, email: str, now: datetime.datetime | None = None
) -> Submitted:
    """A residents' group submits an event: it waits for the mail confirmation, then
    for a moderator."""
    errors = event_data_errors(data)
    organiser_name = (organiser_name or "").strip()
    email = (email or "").strip().lower()
    if not organiser_name:
        errors["organiser_name"] = "団体名を入力してください。"
    elif len(organiser_name) > 100 or "\n" in organiser_name:
        errors["organiser_name"] = "団体名は1行、100文字以内で入力してください。"
    elif problem := abuse.text_problem(organiser_name):
        errors["organiser_name"] = problem
    try:
        from django.core.validators import validate_email

        validate_email(email)
    except ValidationError:
        errors["email"] = "メールアドレスの形が正しくありません（例: taro@example.jp）。"
    else:
        if abuse.is_blocked(email):
            errors["email"] = "このメールアドレスからは受け付けられません。"
    if errors:
        raise EventError(errors)
    values = _checked(data)
    now = now or timezone.now()
    secret = secrets.token_urlsafe(24)
    with _atomic():
        organiser, _ = Organiser.objects.get_or_create(
            email=email, defaults={"name": organiser_name, "created_at": now}
        )
        if organiser.name != organiser_name:
            organiser.name = organiser_name
            organiser.save(update_fields=["name"])
        event = Event.objects.create(
            **values, organiser=organiser, organiser_name=organiser_name, official=False,
            status=Status.PENDING, confirm_token_hash=hashlib.sha256(secret.encode()).hexdigest(),
            created_at=now, updated_at=now,
        )  # fmt: skip
        _log(event, Action.Kind.SUBMITTED, now=now)
    return Submitted(event=event, confirm_secret=secret)


def event_confirm(*, event: Event, secret: str) -> bool:
    """The organiser followed the link in the confirmation mail; False if it is not theirs."""
    digest = hashlib.sha256((secret or "").encode()).hexdigest()
    if not event.confirm_token_hash or not secrets.compare_digest(digest, event.confirm_token_hash):
        return False
    with _atomic():
        event = _locked(event)
        if event.confirmed_at is None:
            event.confirmed_at = timezone.now()
            event.save(update_fields=["confirmed_at"])
            _log(event, Action.Kind.CONFIRMED)
    return True


def event_edit_by_organiser(*, event: Event, data: EventData) -> Event:
    """The organiser changed the event through the signed link: it goes back to review
    (off the public calendar until a moderator approves it again)."""
    values = _checked(data)
    with _atomic():
        event = _locked(event)
        if event.official or event.status == Status.CANCELLED:
            raise EventError({"__all__": "このイベントは編集できません。"})
        for name, value in values.items():
            setattr(event, name, value)
        event.status = Status.PENDING
        event.auto_hidden = False
        event.sequence += 1
        event.updated_at = timezone.now()
        event.save()
        _log(event, Action.Kind.EDITED)
    return event


def event_report(
    *, event: Event, reporter_key: str, reason: str, text: str = ""
) -> tuple[Report | None, bool]:
    """A public report with a reason. Returns the report (None when this reporter had
    reported already) and whether the event was hidden by it: at the municipality's
    threshold of distinct reporters the event leaves the calendar for the moderators."""
    if reason not in Report.Reason.values:
        raise EventError({"reason": "通報の理由を選んでください。"})
    text = (text or "").strip()
    if len(text) > MAX_REASON:
        raise EventError({"text": f"{MAX_REASON}文字以内で入力してください。"})
    with _atomic():
        event = _locked(event)
        if event.status != Status.PUBLISHED:
            raise EventError({"__all__": "このイベントは通報を受け付けていません。"})
        if Report.objects.filter(event=event, reporter_key=reporter_key).exists():
            return None, False
        report = Report.objects.create(
            event=event, reporter_key=reporter_key, reason=reason, text=text
        )
        count = Report.objects.filter(event=event, resolved=False).count()
        threshold = CalendarSettings.current().report_threshold
        if count < threshold:
            return report, False
        event.status = Status.HIDDEN
        event.auto_hidden = True
        event.status_reason = f"{count}件の通報"
        event.updated_at = timezone.now()
        event.save(update_fields=["status", "auto_hidden", "status_reason", "updated_at"])
        _log(event, Action.Kind.AUTO_HIDDEN, reason=event.status_reason)
        _audit("auto_hidden", event, None, None, reports=count, threshold=threshold)
    return report, True


# --- moderators and staff --------------------------------------------------------------


def _in_municipality(actor: Any) -> None:
    municipality = getattr(actor, "municipality", None)
    if municipality is None or municipality.lg_code != current_lg_code():
        raise EventError({"__all__": "この自治体の職員ではありません。"})


def may_moderate(actor: Any) -> bool:
    municipality = getattr(actor, "municipality", None)
    return (
        municipality is not None
        and municipality.lg_code == current_lg_code()
        and actor.has_role(Role.MODERATOR)
    )


def may_post_official(actor: Any) -> bool:
    municipality = getattr(actor, "municipality", None)
    return (
        municipality is not None
        and municipality.lg_code == current_lg_code()
        and actor.has_role(Role.WEB_AUTHOR, Role.MODERATOR)
    )


def _moderator(actor: Any) -> None:
    _in_municipality(actor)
    if not may_moderate(actor):
        raise EventError({"__all__": "イベントの審査は掲示板モデレーターが行います。"})


def _reason(reason: str, *, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise EventError({"reason": "理由を入力してください。"})
    if len(reason) > MAX_REASON:
        raise EventError({"reason": f"理由は{MAX_REASON}文字以内で入力してください。"})
    return reason


def _decide(
    event: Event, *, actor: Any, status: str, kind: str, reason: str,
    allowed: tuple[str, ...], terminal: Terminal | None,
) -> Event:  # fmt: skip
    now = timezone.now()
    with _atomic():
        event = _locked(event)
        if event.status not in allowed or (
            kind in (Action.Kind.APPROVED, Action.Kind.REJECTED) and not event.in_queue
        ):
            raise EventError({"__all__": "この状態のイベントにはその操作はできません。"})
        event.status = status
        event.status_reason = reason
        event.updated_at = now
        if status == Status.PUBLISHED:
            event.published_at = event.published_at or now
            event.auto_hidden = False
            event.reports.filter(resolved=False).update(resolved=True)
        event.save()
        _log(event, kind, actor=actor, reason=reason, now=now)
        _audit(kind, event, actor, terminal, reason=reason)
        if kind in (Action.Kind.APPROVED, Action.Kind.REJECTED, Action.Kind.HIDDEN):
            mail.notify_organiser_on_commit(event, kind=kind, reason=reason)
    return event


def event_approve(
    *, event: Event, actor: Any, reason: str = "", terminal: Terminal | None = None
) -> Event:
    _moderator(actor)
    return _decide(
        event, actor=actor, status=Status.PUBLISHED, kind=Action.Kind.APPROVED,
        reason=_reason(reason, required=False), allowed=(Status.PENDING,), terminal=terminal,
    )  # fmt: skip


def event_reject(
    *, event: Event, actor: Any, reason: str, terminal: Terminal | None = None
) -> Event:
    """Not published; the reason goes to the organiser by mail."""
    _moderator(actor)
    return _decide(
        event, actor=actor, status=Status.HIDDEN, kind=Action.Kind.REJECTED,
        reason=_reason(reason, required=True), allowed=(Status.PENDING,), terminal=terminal,
    )  # fmt: skip


def event_hide(*, event: Event, actor: Any, reason: str, terminal: Terminal | None = None) -> Event:
    _moderator(actor)
    return _decide(
        event, actor=actor, status=Status.HIDDEN, kind=Action.Kind.HIDDEN,
        reason=_reason(reason, required=True), allowed=(Status.PUBLISHED,), terminal=terminal,
    )  # fmt: skip


def event_restore(
    *, event: Event, actor: Any, reason: str, terminal: Terminal | None = None
) -> Event:
    """Back on the calendar after a hide (by a moderator or by reports); the reports so
    far are resolved, so it takes new ones to hide it again."""
    _moderator(actor)
    return _decide(
        event, actor=actor, status=Status.PUBLISHED, kind=Action.Kind.RESTORED,
        reason=_reason(reason, required=True), allowed=(Status.HIDDEN,), terminal=terminal,
    )  # fmt: skip


def event_cancel(
    *, event: Event, actor: Any, reason: str, terminal: Terminal | None = None
) -> Event:
    """中止: stays on the calendar marked cancelled (STATUS:CANCELLED in the feeds).
    Official events by their authors or moderators; residents' events by moderators."""
    _in_municipality(actor)
    if not (may_moderate(actor) or (event.official and may_post_official(actor))):
        raise EventError({"__all__": "このイベントを中止にする権限がありません。"})
    now = timezone.now()
    reason = _reason(reason, required=True)
    with _atomic():
        event = _locked(event)
        if event.status != Status.PUBLISHED:
            raise EventError({"__all__": "公開中のイベントだけを中止にできます。"})
        event.status = Status.CANCELLED
        event.status_reason = reason
        event.sequence += 1
        event.updated_at = now
        event.save()
        _log(event, Action.Kind.CANCELLED, actor=actor, reason=reason, now=now)
        _audit("cancelled", event, actor, terminal, reason=reason)
    return event


def official_event_save(
    *, data: EventData, actor: Any, event: Event | None = None,
    terminal: Terminal | None = None,
) -> Event:  # fmt: skip
    """The municipality posts (or edits) an official event: public at once."""
    _in_municipality(actor)
    if not may_post_official(actor):
        raise EventError({"__all__": "自治体のイベントはウェブ作成者かモデレーターが投稿します。"})
    values = _checked(data)
    now = timezone.now()
    with _atomic():
        if event is None:
            event = Event(
                official=True, organiser_name=actor.municipality.name,
                status=Status.PUBLISHED, published_at=now, created_at=now,
            )  # fmt: skip
            kind = Action.Kind.PUBLISHED
        else:
            event = _locked(event)
            if not event.official or event.status == Status.CANCELLED:
                raise EventError({"__all__": "このイベントは編集できません。"})
            event.sequence += 1
            kind = Action.Kind.EDITED
        for name, value in values.items():
            setattr(event, name, value)
        event.updated_at = now
        event.save()
        _log(event, kind, actor=actor, now=now)
        _audit("saved", event, actor, terminal, official=True)
    return event


def report_threshold_set(*, threshold: int, actor: Any) -> CalendarSettings:
    _moderator(actor)
    if not isinstance(threshold, int) or not 1 <= threshold <= 100:
        raise EventError({"threshold": "通報数は 1〜100 で指定してください。"})
    with _atomic():
        settings = CalendarSettings.current()
        before = settings.report_threshold
        settings.report_threshold = threshold
        settings.save(update_fields=["report_threshold"])
        audit_append(
            action="localevents.threshold.changed", actor=actor, object_type="local_events",
            function="localevents", detail={"before": before, "after": threshold},
        )  # fmt: skip
    return settings
