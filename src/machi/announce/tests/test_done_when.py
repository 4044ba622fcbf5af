"""Issue 14's "done when" for announcements: ONE announcement, published with
``machi announce publish``, reaches a webhook receiver, the RSS and Atom readers, the
mail box and a Mastodon-like follower, each over real HTTP or SMTP on loopback; a
webhook receiver that answers 500 is retried and holds up nobody; the staff see how
every channel stands."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import feedparser
import pytest
import requests
import xmlschema
from django.core.management import CommandError, call_command
from standardwebhooks import Webhook

from machi.activitypub.delivery import deliveries_drain
from machi.activitypub.tests.conftest import cavage_sign, cavage_verify, live_machi, remote
from machi.announce import selectors, services
from machi.announce.models import Announcement, ChannelDelivery
from machi.audit.models import AuditEntry
from machi.linkage import services as linkage
from machi.linkage.delivery import DeliveryWorker, RetryPolicy
from machi.linkage.models import Delivery, DeliveryStatus, OutboxEvent
from machi.linkage.tests.receiver import Receiver
from machi.linkage.webhooks import VERIFICATION_TYPE, secret_generate
from machi.tenancy.context import tenant_context

from .conftest import A

pytestmark = pytest.mark.django_db(databases="__all__")

__all__ = ["live_machi", "remote"]  # fixtures of the ActivityPub tests, reused here

AS = "application/activity+json"
TIMEOUT = 30  # a loaded machine makes RSA keys slowly; no timing is asserted
FAST = RetryPolicy(first_delay=0.01, factor=2, max_delay=0.1, give_up_after=3600)
XSD = Path(__file__).resolve().parents[1] / "schemas" / "CAP-v1.2.xsd"


@pytest.fixture
def receivers():
    made: list[Receiver] = []

    def make() -> Receiver:
        receiver = Receiver(secret=secret_generate()).start()
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.stop()


def _follow(live: str, remote) -> None:
    """The Mastodon-like neighbour follows the municipality: a signed Follow to its
    inbox, then machi's signed Accept back to the neighbour's inbox."""
    path = f"/ap/{A}/inbox"
    body = json.dumps(
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{remote.actor_id}#follows/1",
            "type": "Follow",
            "actor": remote.actor_id,
            "object": f"{live}/ap/{A}/actor",
        }
    ).encode()
    headers = cavage_sign(
        method="POST", path=path, host=live.removeprefix("http://"), body=body,
        key_id=remote.key_id, private_key=remote.private_key,
    )  # fmt: skip
    headers["Content-Type"] = AS
    reply = requests.post(live + path, data=body, headers=headers, timeout=TIMEOUT)
    assert reply.status_code == 202
    deliveries_drain(lg_codes=[A], threads=1)
    (accept,) = remote.received
    assert accept.json()["type"] == "Accept"
    remote.received.clear()


def _subscribe_mail(email: str) -> str:
    """A resident subscribed to 防災 mail (the confirmation link opened); their token."""
    with tenant_context(A):
        _, secret = services.subscription_request(email=email, categories=["bousai"], language="en")
        return services.subscription_confirm(secret=secret).unsubscribe_token


def _publish(**arguments: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    argv = ["announce", "publish", "--tenant", A]
    for name, value in arguments.items():
        argv += [f"--{name.replace('_', '-')}", value]
    call_command(*argv, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_one_announcement_reaches_every_channel(live_machi, remote, receivers, smtp_server):
    live = live_machi
    # --- the recipients: two department systems, a resident's mail box, a follower ----
    webhook_ok, webhook_down = receivers(), receivers()
    with tenant_context(A):
        for rx, name in ((webhook_ok, "防災システム"), (webhook_down, "防災無線")):
            linkage.subscription_create(
                name=name, url=rx.url, types=["jp.machi.announcement.*"], secret=rx.secret
            )
    webhook_down.behaviour = lambda receiver, n: "fail"  # verified, then down: HTTP 500
    token = _subscribe_mail("resident@example.jp")
    _follow(live, remote)

    # --- one announcement, from the command line -------------------------------------
    out, _ = _publish(
        title="避難所を開設しました", body="**千代田小学校**を避難所として開設しました。",
        title_en="An evacuation shelter is open",
        body_en="Chiyoda Elementary School is open as a shelter.",
        title_easy="ひなんじょを あけました", body_easy="ちよだ しょうがっこうに にげて ください。",
        category="bousai", urgency="Immediate", severity="Severe", area="千代田区全域",
    )  # fmt: skip
    match = re.fullmatch(r"(\d+) (\S+)\n", out)
    assert match, out
    pk, url = int(match[1]), match[2]
    assert url == f"{live}/{A}/announcements/{pk}/"
    with tenant_context(A):
        assert Announcement.objects.get().pk == pk

    # --- (a) webhooks: the existing Standard Webhooks delivery ------------------------
    worker = DeliveryWorker(lg_codes=[A], poll_interval=0.01, timeout=5.0, policy=FAST)
    try:

        def settled() -> bool:
            with tenant_context(A):
                retried = Delivery.objects.filter(
                    subscription__name="防災無線", attempts__gte=2
                ).exists()
            return retried and any(
                r.event["type"] != VERIFICATION_TYPE for r in webhook_ok.unique()
            )

        worker.drain(until=settled, timeout=60)
        (got,) = [r for r in webhook_ok.unique() if r.event["type"] != VERIFICATION_TYPE]
        # Checked again here with the standardwebhooks package, apart from the receiver.
        event = Webhook(webhook_ok.secret).verify(got.body, got.headers)
        assert event["type"] == "jp.machi.announcement.published"
        assert event["subject"] == str(pk)
        assert event["source"] == f"/municipalities/{A}"
        assert event["data"]["announcement_id"] == pk
        assert event["data"]["url"] == url
        assert event["data"]["languages"] == ["ja", "ja-easy", "en"]
        assert got.headers["webhook-id"] == event["id"]
        with tenant_context(A):
            down = Delivery.objects.get(subscription__name="防災無線")
            assert down.status == DeliveryStatus.PENDING and down.last_status_code == 500
            assert selectors.webhook_status(announcement_id=pk) == {
                "pending": 0, "sent": 1, "failed": 0, "retrying": 1,
            }  # fmt: skip

        # --- (b) the RSS and Atom readers, over HTTP ----------------------------------
        for kind in ("rss", "atom"):
            reply = requests.get(f"{live}/{A}/feeds/news.{kind}", timeout=TIMEOUT)
            assert reply.status_code == 200
            feed = feedparser.parse(reply.content)
            assert not feed.bozo, feed.get("bozo_exception")
            (entry,) = feed.entries
            assert entry.title == "避難所を開設しました"
            assert entry.link == url
        english = feedparser.parse(
            requests.get(f"{live}/{A}/feeds/news.atom?lang=en", timeout=TIMEOUT).content
        )
        assert not english.bozo and english.entries[0].title == "An evacuation shelter is open"
        # 防災: the CAP index names the alert, valid against the OASIS schema.
        index = feedparser.parse(requests.get(f"{live}/{A}/feeds/cap.xml", timeout=TIMEOUT).content)
        assert not index.bozo
        (alert_link,) = [e.link for e in index.entries]
        assert alert_link == f"{url}cap.xml"
        alert = requests.get(alert_link, timeout=TIMEOUT)
        xmlschema.XMLSchema(str(XSD)).validate(alert.content)
        assert "千代田区全域" in alert.text and alert.text.count("<info>") == 3
        assert "<language>en-US</language>" in alert.text

        # --- (c) the mail box: one message in the subscriber's language, RFC 8058 -------
        (mail,) = smtp_server.received
        assert mail.rcpt_tos == ["resident@example.jp"]
        message = mail.message
        assert message["Subject"].strip().endswith("] An evacuation shelter is open")
        stop = f"{live}/{A}/announcements/unsubscribe/{token}/"
        assert message["List-Unsubscribe"].strip() == f"<{stop}>"
        assert message["List-Unsubscribe-Post"].strip() == "List-Unsubscribe=One-Click"
        assert url in message.get_content()

        # --- (d) the follower's inbox: a signed Create/Note -------------------------------
        deliveries_drain(lg_codes=[A], threads=1)
        (create,) = remote.received
        actor = requests.get(f"{live}/ap/{A}/actor", headers={"Accept": AS}, timeout=TIMEOUT)
        assert actor.headers["Content-Type"].startswith(AS)
        key = actor.json()["publicKey"]
        assert cavage_verify(
            method="POST", path=create.path, headers=create.headers, body=create.body,
            public_pem=key["publicKeyPem"],
        ) == key["id"]  # fmt: skip
        activity = create.json()
        assert activity["type"] == "Create" and activity["actor"] == actor.json()["id"]
        note = activity["object"]
        assert note["type"] == "Note" and note["url"] == url
        assert "避難所を開設しました" in note["content"]
        assert "An evacuation shelter is open" in note["contentMap"]["en"]

        # The website's news carries it as well.
        news = requests.get(f"{live}/{A}/news/", timeout=TIMEOUT)
        assert news.status_code == 200 and "避難所を開設しました" in news.text

        # --- every channel's state, as the staff see it ------------------------------------
        with tenant_context(A):
            announcement = Announcement.objects.get(pk=pk)
            states = {
                c.delivery.channel: c.state
                for c in selectors.delivery_status(announcement=announcement)
            }
        assert states == {
            "news": "sent", "feeds": "sent", "mail": "sent", "activitypub": "sent",
            "cap": "sent", "webhook": "retrying",
        }  # fmt: skip

        # The system comes back: the retry delivers, once.
        webhook_down.behaviour = lambda receiver, n: "ok"
        worker.drain(timeout=60)
        (late,) = [r for r in webhook_down.unique() if r.event["type"] != VERIFICATION_TYPE]
        assert Webhook(webhook_down.secret).verify(late.body, late.headers)["id"] == event["id"]
        with tenant_context(A):
            assert selectors.webhook_status(announcement_id=pk)["sent"] == 2
            assert {
                c.delivery.channel: c.state
                for c in selectors.delivery_status(announcement=announcement)
            }["webhook"] == "sent"
    finally:
        worker.shutdown()

    # One-click unsubscribe, as a mail client does it (no session, no form token).
    reply = requests.post(stop, data={"List-Unsubscribe": "One-Click"}, timeout=TIMEOUT)
    assert reply.status_code == 200
    with tenant_context(A):
        assert not selectors.subscriber_known(token=token)


def test_the_staff_page_shows_the_failing_webhook_retrying(
    live_machi, receivers, signed_in, make_staff, municipality_a
):
    down = receivers()
    with tenant_context(A):
        linkage.subscription_create(
            name="防災無線", url=down.url, types=["jp.machi.announcement.*"], secret=down.secret
        )
    down.behaviour = lambda receiver, n: "fail"
    out, _ = _publish(title="断水のお知らせ", body="本日午後、断水します。", category="kurashi")
    pk = int(out.split()[0])
    worker = DeliveryWorker(lg_codes=[A], poll_interval=0.01, timeout=5.0, policy=FAST)
    try:

        def retried() -> bool:
            with tenant_context(A):
                return Delivery.objects.filter(attempts__gte=2).exists()

        worker.drain(until=retried, timeout=60)
    finally:
        worker.shutdown()
    approver = make_staff(municipality_a, ("koho", "web_approver"), username="koho-lead")
    page = signed_in(approver).get(f"/{A}/announcements/staff/{pk}/").content.decode()
    row = re.search(r"<th scope=\"row\">Webhook</th>(.*?)</tr>", page, re.S)
    assert row and "再試行中" in row[1] and "HTTP 500" not in row[1]
    assert "再試行中: 1" in row[1]
    mail = re.search(r"<th scope=\"row\">メール配信</th>(.*?)</tr>", page, re.S)
    assert mail and "送信済み" in mail[1]  # no subscribers: done at once, not held up


# --- bad input to the command: a clear message, nothing written -------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"category": "nosuch"}, "分類「nosuch」はありません。"),
        ({"title": "   "}, "日本語の件名を入力してください。"),
        ({"title": ""}, "日本語の件名を入力してください。"),
        ({"body": ""}, "日本語の本文を入力してください。"),
        ({"valid_until": "2026-12-08 18:00"}, "--valid-until needs a date and time"),
        ({"title_en": "Only a title"}, "件名と本文は両方入力するか"),
    ],
)
def test_bad_input_to_the_command_creates_nothing(municipality_a, arguments, message):
    values = {"title": "避難所を開設しました", "body": "開設しました。", "category": "bousai"}
    with pytest.raises(CommandError, match=re.escape(message)):
        _publish(**(values | arguments))
    with tenant_context(A):
        assert not Announcement.objects.exists()
        assert not ChannelDelivery.objects.exists()
        assert not OutboxEvent.objects.exists()
        assert not AuditEntry.objects.filter(action__startswith="announce.").exists()


def test_an_unknown_municipality_is_refused(municipality_a):
    with pytest.raises(CommandError, match="999999"):
        call_command(
            "announce", "publish", "--tenant", "999999", "--title", "件名", "--body", "本文",
            "--category", "bousai", stdout=io.StringIO(),
        )  # fmt: skip
    with tenant_context(A):
        assert not Announcement.objects.exists()


def test_an_unknown_urgency_is_refused_by_the_parser(municipality_a, capsys):
    with pytest.raises((CommandError, SystemExit)):
        _publish(title="件名", body="本文", category="bousai", urgency="Soon")
    with tenant_context(A):
        assert not Announcement.objects.exists()
