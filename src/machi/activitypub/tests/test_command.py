"""``machi activitypub``: follow another actor, deliver, status."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from machi.activitypub.models import Follower, Following
from machi.tenancy.context import tenant_context

from .conftest import A, B

pytestmark = pytest.mark.django_db(databases="__all__")


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("activitypub", *args, stdout=out)
    return out.getvalue()


def test_follow_deliver_and_status(live_machi):
    assert "Follow queued" in _run("--tenant", A, "follow", f"{live_machi}/ap/{B}/actor")
    assert "sent=1" in _run("--tenant", A, "deliver")
    with tenant_context(B):
        assert Follower.objects.get().actor_id == f"{live_machi}/ap/{A}/actor"
    _run("--tenant", B, "deliver")  # the Accept
    status = _run("--tenant", A, "status")
    assert f"actor: @{A}@127.0.0.1:" in status
    assert f"following: {live_machi}/ap/{B}/actor (accepted)" in status
    assert "deliveries: sent=1" in status
    assert "followers: 1" in _run("--tenant", B, "status")


@pytest.mark.parametrize(
    "address", ["nobody", "acct:@host", "http://127.0.0.1:9/users/none", "user@bad/host"]
)
def test_follow_of_an_address_that_leads_nowhere_fails_clearly(live_machi, address):
    with pytest.raises(CommandError):
        _run("--tenant", A, "follow", address)
    with tenant_context(A):
        assert not Following.objects.exists()


def test_follow_of_a_document_that_is_not_an_actor(live_machi):
    with pytest.raises(CommandError, match="not that actor"):
        _run("--tenant", A, "follow", f"{live_machi}/ap/{B}/outbox")


def test_unknown_tenant(db):
    with pytest.raises(CommandError):
        _run("--tenant", "999999", "status")
