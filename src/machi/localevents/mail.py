"""Mail to the organiser of a resident-submitted event: the confirmation link with the
signed edit link, then the moderator's decision with its reason (sent on commit).

The organiser's address is personal data: it is never logged, only the event's id."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse

from machi.tenancy.context import current_lg_code, current_tenant_alias, tenant_context

log = logging.getLogger(__name__)
EDIT_SALT = "machi.localevents.edit"
EDIT_MAX_AGE = 365 * 24 * 3600


def _site() -> str:
    return settings.MACHI_PUBLIC_URL


def edit_token(event) -> str:
    return signing.dumps({"e": event.pk, "l": current_lg_code()}, salt=EDIT_SALT)


def edit_check(token: str) -> int | None:
    """The event the signed edit link names, in this municipality; None otherwise."""
    try:
        data = signing.loads(token, salt=EDIT_SALT, max_age=EDIT_MAX_AGE)
    except signing.BadSignature:
        return None
    return data.get("e") if data.get("l") == current_lg_code() else None


def _event_links(event) -> tuple[str, str]:
    lg = current_lg_code()
    page = _site() + reverse("localevents:event", args=[lg, event.pk])
    edit = _site() + reverse("localevents:organiser_edit", args=[lg, edit_token(event)])
    return page, edit


def send_confirmation(*, event, email: str, secret: str) -> None:
    lg = current_lg_code()
    confirm = _site() + reverse("localevents:confirm", args=[lg, event.pk, secret])
    _page, edit = _event_links(event)
    title = event.title.get("ja", "")
    body = (
        f"イベント「{title}」の投稿を受け付けました。\n\n"
        "メールアドレスを確認するため、次のリンクを開いてください。"
        "確認の後、担当者が内容を審査してからカレンダーに掲載します。\n"
        f"{confirm}\n\n"
        f"内容を直すときは次のリンクから（直した内容はもう一度審査します）:\n{edit}\n\n"
        "心当たりがない場合は、このメールを破棄してください。\n"
    )
    send_mail("イベント投稿のメールアドレスの確認", body, settings.DEFAULT_FROM_EMAIL, [email])


def notify_organiser_on_commit(event, *, kind: str, reason: str) -> None:
    if event.official or event.organiser_id is None:
        return
    lg = current_lg_code()
    pk = event.pk
    transaction.on_commit(lambda: _notify(pk, lg, kind, reason), using=current_tenant_alias())


def _notify(pk: int, lg: str, kind: str, reason: str) -> None:
    from machi.localevents.models import Event

    with tenant_context(lg):
        event = Event.objects.select_related("organiser").get(pk=pk)
        if event.confirmed_at is None:
            return  # an unconfirmed address gets nothing but the confirmation mail
        page, edit = _event_links(event)
        title = event.title.get("ja", "")
        why = f"\n理由:\n{reason}\n" if reason else ""
        if kind == "approved":
            subject = "イベントを掲載しました"
            text = (
                f"イベント「{title}」をカレンダーに掲載しました。\n{why}\n"
                f"イベントのページ: {page}\n"
            )
        elif kind == "rejected":
            subject = "イベントを掲載できませんでした"
            text = (
                f"イベント「{title}」は掲載できませんでした。\n{why}\n"
                f"内容を直して、もう一度審査を受けられます:\n{edit}\n"
            )
        else:
            subject = "イベントの掲載を止めました"
            text = f"イベント「{title}」の掲載を止めました。\n{why}\n内容を直すとき:\n{edit}\n"
        try:
            send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, [event.organiser.email])
        except OSError:
            log.exception("organiser mail for local event %s not sent", pk)
