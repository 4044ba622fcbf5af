"""Running the pushed channels of announcements (news, mail, ActivityPub, and the news
withdrawal), each delivery row on its own.

A row is claimed by a conditional update (its next attempt moved a lease ahead), so two
workers, or the worker and the CLI, never run the same row at once. A failure records
the kind of error (never an address), and the row retries with exponential backoff until
:data:`MAX_ATTEMPTS`, then stays failed until staff press 再送; the other rows of the
same announcement go on regardless.
"""

from __future__ import annotations

import datetime
import logging
import smtplib
from collections.abc import Callable

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext

from machi.announce.links import absolute, host
from machi.announce.models import (
    Action,
    Announcement,
    Category,
    Channel,
    ChannelDelivery,
    DeliveryState,
    Subscriber,
)
from machi.announce.rendering import text_in
from machi.tenancy.context import current_lg_code

logger = logging.getLogger(__name__)

LEASE = datetime.timedelta(minutes=10)
MAX_ATTEMPTS = 8
FIRST_DELAY = datetime.timedelta(minutes=1)
MAX_DELAY = datetime.timedelta(hours=6)
MAIL_BATCH = 200  # subscribers per query and per progress update, over one connection
DUE = (DeliveryState.PENDING, DeliveryState.RETRYING)


class ChannelError(Exception):
    """A channel that cannot deliver now; the message is ours (no personal data)."""


def backoff(attempts: int) -> datetime.timedelta:
    """1, 2, 4 … minutes after the 1st, 2nd, 3rd … failure, at most six hours."""
    return min(FIRST_DELAY * 2 ** (attempts - 1), MAX_DELAY)


def error_kind(error: BaseException) -> str:
    """What to keep of an error: our own messages, else its class and the SMTP code (an
    exception's text may carry a recipient's address)."""
    if isinstance(error, ChannelError):
        return str(error)[:300]
    code = getattr(error, "smtp_code", None)
    if code is None and isinstance(error, OSError):
        code = error.errno
    return f"{type(error).__name__}" + (f" ({code})" if code is not None else "")


def deliveries_run(
    *, announcement_id: int | None = None, now: datetime.datetime | None = None
) -> dict[str, int]:
    """Run every delivery row of this municipality whose attempt is due (of one
    announcement if given); returns the counts by the state each ended in."""
    now = now or timezone.now()
    due = ChannelDelivery.objects.filter(state__in=DUE, next_attempt_at__lte=now)
    if announcement_id is not None:
        due = due.filter(announcement_id=announcement_id)
    counts = {DeliveryState.SENT: 0, DeliveryState.RETRYING: 0, DeliveryState.FAILED: 0}
    for pk in list(due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)):
        claimed = ChannelDelivery.objects.filter(
            pk=pk, state__in=DUE, next_attempt_at__lte=now
        ).update(next_attempt_at=now + LEASE)
        if not claimed:  # another worker took it meanwhile
            continue
        delivery = ChannelDelivery.objects.select_related("announcement").get(pk=pk)
        counts[delivery_attempt(delivery=delivery, now=now)] += 1
    return {str(state): count for state, count in counts.items()}


def delivery_attempt(*, delivery: ChannelDelivery, now: datetime.datetime) -> str:
    """One attempt at one row (already claimed); returns the state it ended in."""
    handler = HANDLERS[(delivery.channel, delivery.action)]
    delivery.attempts += 1
    try:
        handler(delivery)
    except Exception as error:
        kind = error_kind(error)
        logger.warning(
            "announcement %s: %s (%s) failed, attempt %s: %s",
            delivery.announcement_id, delivery.channel, delivery.action, delivery.attempts, kind,
        )  # fmt: skip
        delivery.last_error = kind
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.state, delivery.next_attempt_at = DeliveryState.FAILED, None
        else:
            delivery.state = DeliveryState.RETRYING
            delivery.next_attempt_at = timezone.now() + backoff(delivery.attempts)
    else:
        delivery.state, delivery.next_attempt_at = DeliveryState.SENT, None
        delivery.sent_at = timezone.now()
        delivery.last_error = ""
    delivery.updated_at = timezone.now()
    delivery.save(
        update_fields=[
            "state", "attempts", "last_error", "next_attempt_at", "sent_at", "cursor",
            "sent_count", "updated_at",
        ]
    )  # fmt: skip
    return delivery.state


# --- the channels ------------------------------------------------------------------------------


def _news_publish(delivery: ChannelDelivery) -> None:
    try:
        from machi.site.services import news_item_publish
    except ImportError:
        raise ChannelError("ウェブサイト（machi.site）が使えません。") from None
    a = delivery.announcement
    news_item_publish(
        title=a.title, body=a.body, category=a.category, published_at=a.published_at,
        announcement_id=a.pk,
    )  # fmt: skip


def _news_withdraw(delivery: ChannelDelivery) -> None:
    try:
        from machi.site.services import news_item_withdraw
    except ImportError:
        raise ChannelError("ウェブサイト（machi.site）が使えません。") from None
    news_item_withdraw(announcement_id=delivery.announcement_id)


def note_key(announcement: Announcement) -> str:
    return f"announcement-{announcement.pk}"


def note_content(announcement: Announcement) -> dict[str, str]:
    """Sanitised HTML per language the announcement was written in."""
    url = absolute(announcement.get_absolute_url())
    content = {}
    for code in announcement.languages:
        text = text_in(announcement, code)
        content[code] = (
            f"<p><strong>{escape(text.title)}</strong></p>{text.html}"
            f'<p><a href="{escape(url)}">{escape(url)}</a></p>'
        )
    return content


def _activitypub_publish(delivery: ChannelDelivery) -> None:
    try:
        from machi.activitypub.services import note_publish
    except ImportError:
        raise ChannelError("ActivityPub（machi.activitypub）が使えません。") from None
    a = delivery.announcement
    note_publish(
        object_key=note_key(a), url=absolute(a.get_absolute_url()), content=note_content(a),
        summary=None, published=a.published_at,
    )  # fmt: skip


def _mail_body(announcement: Announcement, language: str, category: str) -> tuple[str, str]:
    from django.utils import translation

    text = text_in(announcement, language)
    url = absolute(announcement.get_absolute_url())
    with translation.override(language):
        lines = [text.notice, ""] if text.notice else []
        lines += [
            text.title, "", text.body, "",
            gettext("詳しくはこちら: %(url)s") % {"url": url}, "",
            gettext("このメールは、%(category)sのお知らせの配信を登録した方にお送りしています。")
            % {"category": category},
            gettext("配信の停止:") + " ",
        ]  # fmt: skip
        subject = f"[{gettext('お知らせ')}] {text.title}"
    return subject, "\n".join(lines)


def _mail(delivery: ChannelDelivery) -> None:
    """One message per subscriber of the category in their language, over one SMTP
    connection. Progress is kept per batch, so a retry after a failure resumes after
    the last subscriber the server accepted."""
    a = delivery.announcement
    if a.status != "published":
        raise ChannelError("公開中ではないお知らせです。")
    lg_code = current_lg_code()
    category = Category.objects.filter(code=a.category).first()
    bodies: dict[str, tuple[str, str]] = {}
    subscribers = Subscriber.objects.filter(
        Q(confirmed_at__isnull=False), categories__contains=f",{a.category},"
    ).order_by("pk")
    if not subscribers.filter(pk__gt=delivery.cursor).exists():
        return  # nobody (left) to write to: no connection to the mail server at all
    connection = get_connection(fail_silently=False)
    connection.open()
    list_id = f"<announce.{lg_code}.{host()}>"
    try:
        while True:
            batch = list(
                subscribers.filter(pk__gt=delivery.cursor).values_list(
                    "pk", "email", "language", "unsubscribe_token"
                )[:MAIL_BATCH]
            )
            if not batch:
                break
            for pk, email, language, token in batch:
                if language not in bodies:
                    label = category.label(language) if category else a.category
                    bodies[language] = _mail_body(a, language, label)
                subject, body = bodies[language]
                stop = absolute(reverse("announce:unsubscribe", args=[lg_code, token]))
                message = EmailMessage(
                    subject, f"{body}{stop}\n", settings.DEFAULT_FROM_EMAIL, [email],
                    connection=connection,
                    headers={
                        "List-Unsubscribe": f"<{stop}>",
                        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                        "List-Id": list_id, "Precedence": "bulk",
                        "Auto-Submitted": "auto-generated",
                    },
                )  # fmt: skip
                try:
                    message.send()
                except smtplib.SMTPRecipientsRefused:
                    pass  # this one address is refused; the others still get theirs
                else:
                    delivery.sent_count += 1
                delivery.cursor = pk
            ChannelDelivery.objects.filter(pk=delivery.pk).update(
                cursor=delivery.cursor, sent_count=delivery.sent_count
            )
    finally:
        connection.close()


HANDLERS: dict[tuple[str, str], Callable[[ChannelDelivery], None]] = {
    (Channel.NEWS, Action.PUBLISH): _news_publish,
    (Channel.NEWS, Action.WITHDRAW): _news_withdraw,
    (Channel.MAIL, Action.PUBLISH): _mail,
    (Channel.ACTIVITYPUB, Action.PUBLISH): _activitypub_publish,
}
