"""The inbox refuses what is not signed, not intact, too old, too big or not JSON, and
never crashes; the reason is logged without the body."""

from __future__ import annotations

import json
import logging
from email.utils import formatdate

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from machi.activitypub.inbox import KEYS, MAX_BODY
from machi.activitypub.models import Delivery, DeliveryKind, Follower
from machi.tenancy.context import tenant_context

from .conftest import B, cavage_sign

pytestmark = pytest.mark.django_db(databases="__all__")

PATH = f"/ap/{B}/inbox"
SECRET = "住民の私的なメッセージ"


@pytest.fixture(autouse=True)
def _setup(settings, municipality_b):
    settings.MACHI_PUBLIC_URL = "http://testserver"
    KEYS.clear()
    yield
    KEYS.clear()


def _follow(remote, **extra) -> dict:
    return {
        "id": f"{remote.actor_id}#follows/1",
        "type": "Follow",
        "actor": remote.actor_id,
        "object": f"http://testserver/ap/{B}/actor",
        "content": SECRET,
    } | extra


def _post(client, body: bytes, headers: dict[str, str]):
    extra = {k: v for k, v in headers.items() if k != "Host"}
    return client.post(PATH, data=body, content_type="application/activity+json", headers=extra)


def _signed(remote, body: bytes, **overrides) -> dict[str, str]:
    args = {
        "method": "POST",
        "path": PATH,
        "host": "testserver",
        "body": body,
        "key_id": remote.key_id,
        "private_key": remote.private_key,
    }
    return cavage_sign(**(args | overrides))


def test_a_signed_follow_is_accepted(client, remote):
    body = json.dumps(_follow(remote)).encode()
    assert _post(client, body, _signed(remote, body)).status_code == 202
    with tenant_context(B):
        follower = Follower.objects.get()
        assert follower.inbox == remote.inbox
        accept = Delivery.objects.get(kind=DeliveryKind.ACCEPT)
        assert accept.inbox == remote.inbox and accept.activity["object"]["id"].endswith("/1")
        # The Accept quotes the Follow, not whatever else the sender put into it.
        assert SECRET not in json.dumps(accept.activity, ensure_ascii=False)


def _assert_refused(reply, status, caplog):
    assert reply.status_code == status
    with tenant_context(B):
        assert not Follower.objects.exists()
        assert not Delivery.objects.exists()
    logged = [r.getMessage() for r in caplog.records if r.name == "machi.activitypub.inbox"]
    assert any(f"refused {status}" in message for message in logged), logged
    assert all(SECRET not in message for message in logged)


def test_missing_signature_is_401(client, remote, caplog):
    body = json.dumps(_follow(remote)).encode()
    with caplog.at_level(logging.WARNING):
        reply = client.post(PATH, data=body, content_type="application/activity+json")
    _assert_refused(reply, 401, caplog)


def test_signature_of_another_key_is_401(client, remote, caplog):
    body = json.dumps(_follow(remote)).encode()
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with caplog.at_level(logging.WARNING):
        reply = _post(client, body, _signed(remote, body, private_key=stranger))
    _assert_refused(reply, 401, caplog)


def test_tampered_body_is_401(client, remote, caplog):
    body = json.dumps(_follow(remote)).encode()
    headers = _signed(remote, body)
    tampered = body.replace(b"Follow", b"Fallow")
    with caplog.at_level(logging.WARNING):
        reply = _post(client, tampered, headers)
    _assert_refused(reply, 401, caplog)
    assert any("Digest" in r.getMessage() for r in caplog.records)


def test_tampered_digest_header_is_401(client, remote, caplog):
    """The Digest matches the new body, but the signature covered the old one."""
    import base64
    import hashlib

    body = json.dumps(_follow(remote)).encode()
    headers = _signed(remote, body)
    tampered = body.replace(b"Follow", b"Fallow")
    headers["Digest"] = "SHA-256=" + base64.b64encode(hashlib.sha256(tampered).digest()).decode()
    with caplog.at_level(logging.WARNING):
        reply = _post(client, tampered, headers)
    _assert_refused(reply, 401, caplog)


def test_stale_date_is_401(client, remote, caplog):
    body = json.dumps(_follow(remote)).encode()
    old = formatdate(timeval=__import__("time").time() - 14 * 3600, usegmt=True)
    with caplog.at_level(logging.WARNING):
        reply = _post(client, body, _signed(remote, body, date=old))
    _assert_refused(reply, 401, caplog)


def test_actor_other_than_the_signer_is_401(client, remote, caplog):
    body = json.dumps(_follow(remote, actor="https://elsewhere.example/users/mallory")).encode()
    with caplog.at_level(logging.WARNING):
        reply = _post(client, body, _signed(remote, body))
    _assert_refused(reply, 401, caplog)


def test_unreachable_key_is_401(client, remote, caplog):
    body = json.dumps(_follow(remote)).encode()
    headers = _signed(remote, body, key_id=f"{remote.url}/nobody#main-key")
    with caplog.at_level(logging.WARNING):
        reply = _post(client, body, headers)
    _assert_refused(reply, 401, caplog)


def test_redirect_to_the_key_is_not_followed(client, remote, caplog):
    body = json.dumps(_follow(remote)).encode()
    headers = _signed(remote, body, key_id=f"{remote.url}/redirect#main-key")
    with caplog.at_level(logging.WARNING):
        reply = _post(client, body, headers)
    _assert_refused(reply, 401, caplog)


def test_huge_payload_is_413(client, remote, caplog):
    body = json.dumps(_follow(remote, content="あ" * MAX_BODY)).encode()
    with caplog.at_level(logging.WARNING):
        reply = _post(client, body, _signed(remote, body))
    _assert_refused(reply, 413, caplog)


def test_huge_payload_with_a_small_content_length_is_413(remote, municipality_b):
    """A body longer than it says is cut at the cap by the reader, then refused."""
    from machi.activitypub.inbox import InboxRefused, inbox_receive

    with tenant_context(B), pytest.raises(InboxRefused) as refused:
        inbox_receive(lg_code=B, path=PATH, headers={}, body=b"x" * (MAX_BODY + 1))
    assert refused.value.status == 413


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"no": "type"}', b"\xff\xfe"])
def test_malformed_json_is_400(client, remote, caplog, body):
    with caplog.at_level(logging.WARNING):
        reply = _post(client, body, _signed(remote, body))
    _assert_refused(reply, 400, caplog)


def test_other_types_are_ignored_with_202(client, remote):
    body = json.dumps({"id": "x", "type": "Like", "actor": remote.actor_id, "object": "y"}).encode()
    assert _post(client, body, _signed(remote, body)).status_code == 202
    with tenant_context(B):
        assert not Delivery.objects.exists()


def test_follow_of_someone_else_is_ignored(client, remote):
    body = json.dumps(_follow(remote, object="http://testserver/ap/131016/actor")).encode()
    assert _post(client, body, _signed(remote, body)).status_code == 202
    with tenant_context(B):
        assert not Follower.objects.exists()


def test_get_on_the_inbox_is_405(client):
    assert client.get(PATH).status_code == 405


def test_key_is_cached(client, remote):
    body = json.dumps(_follow(remote)).encode()
    assert _post(client, body, _signed(remote, body)).status_code == 202
    remote_document_fetches = KEYS.get(remote.key_id)
    assert remote_document_fetches is not None and remote_document_fetches.inbox == remote.inbox
