"""Blocking a remote server: its followers go, nothing more is sent to it, and its inbox
requests are refused before any key of it is fetched."""

from __future__ import annotations

import datetime
import io
import json

import pytest
import requests
from django.core.management import CommandError, call_command
from django.utils import timezone

from machi.activitypub.models import BlockedServer, Delivery, DeliveryState, Follower, ReceivedNote
from machi.activitypub.services import note_publish, server_block, server_unblock
from machi.tenancy.context import tenant_context

from .conftest import A, B, cavage_sign

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.MACHI_PUBLIC_URL = "https://machi.example.jp"


def _follower(host: str, n: int = 1) -> Follower:
    return Follower.objects.create(
        actor_id=f"https://{host}/users/u{n}",
        inbox=f"https://{host}/users/u{n}/inbox",
        accepted_at=timezone.now(),
    )


def test_block_removes_the_servers_followers_and_stops_its_deliveries(municipality_b):
    with tenant_context(B):
        for host in ("spam.example", "a.spam.example", "notspam.example", "social.example"):
            _follower(host)
        note_publish(
            object_key="n-1",
            url="https://machi.example.jp/271403/news/1/",
            content={"ja": "<p>お知らせ</p>"},
            summary=None,
            published=datetime.datetime(2026, 12, 7, 9, 0, tzinfo=datetime.UTC),
        )
        assert server_block(host=" Spam.Example. ", reason="広告の大量送信") == 2
        assert sorted(Follower.objects.values_list("actor_id", flat=True)) == [
            "https://notspam.example/users/u1",
            "https://social.example/users/u1",
        ]
        states = dict(Delivery.objects.values_list("inbox", "state"))
        assert states["https://spam.example/users/u1/inbox"] == DeliveryState.FAILED
        assert states["https://a.spam.example/users/u1/inbox"] == DeliveryState.FAILED
        assert states["https://notspam.example/users/u1/inbox"] == DeliveryState.PENDING
        assert BlockedServer.objects.get().host == "spam.example"
        assert server_unblock(host="spam.example")
        assert not server_unblock(host="spam.example")
    with tenant_context(A):
        assert not BlockedServer.objects.exists()


@pytest.mark.parametrize(
    "host", ["", "https://spam.example", "spam.example/inbox", "spam", "a b.c"]
)
def test_a_bad_host_is_refused_and_changes_nothing(municipality_b, host):
    with tenant_context(B):
        _follower("spam.example")
        with pytest.raises(ValueError):
            server_block(host=host)
        assert not BlockedServer.objects.exists()
        assert Follower.objects.count() == 1


def _signed_post(live_machi: str, remote, lg_code: str, activity: dict) -> requests.Response:
    body = json.dumps(activity).encode()
    path = f"/ap/{lg_code}/inbox"
    headers = cavage_sign(
        method="POST",
        path=path,
        host=live_machi.removeprefix("http://"),
        body=body,
        key_id=remote.key_id,
        private_key=remote.private_key,
    )
    return requests.post(live_machi + path, data=body, headers=headers, timeout=30)


def test_a_blocked_server_is_refused_at_the_inbox(live_machi, remote):
    follow = {
        "id": f"{remote.actor_id}#follows/1",
        "type": "Follow",
        "actor": remote.actor_id,
        "object": f"{live_machi}/ap/{B}/actor",
    }
    with tenant_context(B):
        server_block(host="127.0.0.1")
    response = _signed_post(live_machi, remote, B, follow)
    assert response.status_code == 403
    with tenant_context(B):
        assert not Follower.objects.exists()
    # The block is B's alone: A still takes the same server's follow.
    follow["object"] = f"{live_machi}/ap/{A}/actor"
    assert _signed_post(live_machi, remote, A, follow).status_code == 202
    with tenant_context(A):
        assert Follower.objects.filter(actor_id=remote.actor_id).exists()


def test_block_drops_what_the_server_sent(municipality_a):
    with tenant_context(A):
        ReceivedNote.objects.create(
            object_id="https://spam.example/notes/1",
            actor_id="https://spam.example/users/u1",
            content="<p>広告</p>",
            received_at=timezone.now(),
        )
        server_block(host="spam.example")
        assert not ReceivedNote.objects.exists()


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("activitypub", *args, stdout=out)
    return out.getvalue()


def test_the_command_blocks_lists_and_unblocks(municipality_b):
    with tenant_context(B):
        _follower("spam.example")
    blocked = _run("--tenant", B, "block", "spam.example", "--reason", "spam")
    assert "1 follower(s) removed" in blocked
    assert "blocked: spam.example spam" in _run("--tenant", B, "status")
    assert "unblocked: spam.example" in _run("--tenant", B, "unblock", "spam.example")
    with pytest.raises(CommandError, match="not blocked"):
        _run("--tenant", B, "unblock", "spam.example")
    with pytest.raises(CommandError, match="domain name"):
        _run("--tenant", B, "block", "https://spam.example/")
