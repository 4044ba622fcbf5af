"""The fan-out: every channel on its own; a failing one retries with backoff and never
holds up the others; mail over a real SMTP server with RFC 8058 headers."""

from __future__ import annotations

import datetime
import socket

import pytest
import time_machine
from django.utils import timezone

from machi.announce import services
from machi.announce.delivery import MAX_ATTEMPTS, backoff, deliveries_run, error_kind
from machi.announce.models import ChannelDelivery, DeliveryState

pytestmark = pytest.mark.django_db(databases="__all__")


def _states(announcement) -> dict[str, str]:
    return dict(
        ChannelDelivery.objects.filter(announcement=announcement, action="publish").values_list(
            "channel", "state"
        )
    )


def test_mail_goes_to_the_category_s_subscribers_in_their_language(
    draft, approver, in_a, smtp_server, subscribers
):
    ja = subscribers(3)
    en = subscribers(2, language="en")
    easy = subscribers(1, language="ja-easy")
    subscribers(4, categories=("kosodate",))  # another category: nothing
    announcement = draft()
    services.announcement_publish(announcement=announcement, actor=approver)
    deliveries_run(announcement_id=announcement.pk)
    mail = ChannelDelivery.objects.get(channel="mail")
    assert mail.state == DeliveryState.SENT
    assert mail.sent_count == 6
    received = {m.rcpt_tos[0]: m.message for m in smtp_server.received}
    assert set(received) == {s.email for s in ja + en + easy}
    english = received[en[0].email]
    assert english["Subject"].strip().endswith("] An evacuation shelter is open")
    japanese = received[ja[0].email]
    assert "避難所を開設しました" in japanese["Subject"]
    # やさしい日本語 was not written: the Japanese, with the notice in やさしい日本語.
    plain = received[easy[0].email].get_content()
    assert "やさしい にほんごに なって いません" in plain and "千代田小学校" in plain
    for subscriber in ja + en + easy:
        message = received[subscriber.email]
        stop = f"/131016/announcements/unsubscribe/{subscriber.unsubscribe_token}/"
        # (a long header may be folded: the value then starts with the folding space)
        header = message["List-Unsubscribe"].strip()
        assert header == f"<https://machi.example.jp{stop}>"
        assert message["List-Unsubscribe-Post"].strip() == "List-Unsubscribe=One-Click"
        assert stop in message.get_content()
        assert message["To"] == subscriber.email  # one recipient per message


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_smtp_down_retries_with_backoff_and_the_others_are_sent(
    draft, approver, in_a, smtp_server, subscribers, settings
):
    people = subscribers(5)
    settings.EMAIL_PORT = _closed_port()  # the mail server is down
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        announcement = draft()
        services.announcement_publish(announcement=announcement, actor=approver)
        deliveries_run(announcement_id=announcement.pk)
    mail = ChannelDelivery.objects.get(channel="mail")
    assert mail.state == DeliveryState.RETRYING
    assert mail.attempts == 1
    assert mail.last_error.startswith("ConnectionRefusedError")
    assert mail.next_attempt_at == start + backoff(1)
    states = _states(announcement)
    assert states["feeds"] == states["webhook"] == states["cap"] == DeliveryState.SENT
    # news and ActivityPub went out on their own, whatever the mail server does
    assert states["news"] == states["activitypub"] == DeliveryState.SENT
    from machi.activitypub.models import Note
    from machi.site.models import NewsItem

    item = NewsItem.objects.get(announcement_id=announcement.pk)
    assert item.status == "published"
    note = Note.objects.get(object_key=f"announcement-{announcement.pk}")
    assert note.url == f"https://machi.example.jp/131016/announcements/{announcement.pk}/"
    assert set(note.content) == {"ja", "en"}

    # Not due yet: nothing is tried.
    with time_machine.travel(start + backoff(1) - datetime.timedelta(seconds=1), tick=False):
        deliveries_run()
    assert ChannelDelivery.objects.get(channel="mail").attempts == 1

    settings.EMAIL_PORT = smtp_server.port  # back up
    with time_machine.travel(start + backoff(1), tick=False):
        deliveries_run()
    mail.refresh_from_db()
    assert (mail.state, mail.attempts, mail.sent_count, mail.last_error) == ("sent", 2, 5, "")
    assert sorted(m.rcpt_tos[0] for m in smtp_server.received) == sorted(p.email for p in people)


def test_a_retry_resumes_after_the_last_subscriber_the_server_took(
    draft, approver, in_a, smtp_server, subscribers
):
    people = subscribers(5)
    announcement = draft()
    services.announcement_publish(announcement=announcement, actor=approver)
    mail = ChannelDelivery.objects.get(channel="mail")
    # As if an earlier attempt had reached the first three before the server went away.
    ChannelDelivery.objects.filter(pk=mail.pk).update(cursor=people[2].pk, sent_count=3)
    deliveries_run(announcement_id=announcement.pk)
    assert sorted(m.rcpt_tos[0] for m in smtp_server.received) == [p.email for p in people[3:]]
    mail.refresh_from_db()
    assert mail.sent_count == 5


def test_a_channel_gives_up_after_the_last_attempt_until_staff_retry(
    draft, approver, in_a, smtp_server, subscribers, settings
):
    subscribers(1)
    settings.EMAIL_PORT = _closed_port()
    moment = timezone.now()
    with time_machine.travel(moment, tick=False):
        announcement = draft()
        services.announcement_publish(announcement=announcement, actor=approver)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        with time_machine.travel(moment, tick=False):
            deliveries_run()
        mail = ChannelDelivery.objects.get(channel="mail")
        assert mail.attempts == attempt
        moment = mail.next_attempt_at or moment
    assert mail.state == DeliveryState.FAILED and mail.next_attempt_at is None
    with time_machine.travel(moment + datetime.timedelta(days=2), tick=False):
        deliveries_run()
    assert ChannelDelivery.objects.get(channel="mail").attempts == MAX_ATTEMPTS

    settings.EMAIL_PORT = smtp_server.port
    services.delivery_retry(delivery=mail, actor=approver)
    deliveries_run()
    assert ChannelDelivery.objects.get(channel="mail").state == DeliveryState.SENT
    assert len(smtp_server.received) == 1


def test_a_claimed_row_is_not_run_twice(draft, approver, in_a, smtp_server, subscribers):
    subscribers(2)
    announcement = draft()
    services.announcement_publish(announcement=announcement, actor=approver)
    now = timezone.now()
    # Another worker claimed the mail row a moment ago (its lease runs).
    ChannelDelivery.objects.filter(channel="mail").update(
        next_attempt_at=now + datetime.timedelta(minutes=5)
    )
    deliveries_run(now=now)
    assert smtp_server.received == []
    assert ChannelDelivery.objects.get(channel="mail").attempts == 0


class _Refusing:
    """A real SMTP server (aiosmtpd) that refuses one recipient and takes the others."""

    def __init__(self, refused: str) -> None:
        self.refused, self.taken = refused, []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.refused:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.taken.extend(envelope.rcpt_tos)
        return "250 OK"


def test_a_refused_recipient_does_not_stop_the_others(draft, approver, in_a, subscribers, settings):
    from aiosmtpd.controller import Controller

    people = subscribers(3)
    handler = _Refusing(people[1].email)
    port = _closed_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    try:
        announcement = draft()
        services.announcement_publish(announcement=announcement, actor=approver)
        deliveries_run()
    finally:
        controller.stop()
    mail = ChannelDelivery.objects.get(channel="mail")
    assert (mail.state, mail.sent_count) == (DeliveryState.SENT, 2)
    assert sorted(handler.taken) == sorted([people[0].email, people[2].email])


def test_errors_keep_no_address():
    import smtplib

    refused = smtplib.SMTPRecipientsRefused({"taro@example.jp": (550, b"no such user")})
    assert "taro" not in error_kind(refused)
    assert error_kind(smtplib.SMTPDataError(451, b"taro@example.jp later")) == (
        "SMTPDataError (451)"
    )


def test_publishing_runs_the_channels_after_the_commit(
    draft,
    approver,
    in_a,
    smtp_server,
    subscribers,
    immediate_tasks,
    django_capture_on_commit_callbacks,
):
    subscribers(2)
    announcement = draft()
    with django_capture_on_commit_callbacks(execute=True, using="tenant_131016"):
        services.announcement_publish(announcement=announcement, actor=approver)
    assert ChannelDelivery.objects.get(channel="mail").state == DeliveryState.SENT
    assert len(smtp_server.received) == 2
