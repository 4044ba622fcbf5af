"""The last-seen stamp of a staff session is rewritten at most every
LAST_SEEN_RESOLUTION_SECONDS: no session write per request (a database write each),
while the idle timeout can only come earlier by that much, never later."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from machi.accounts.middleware import LAST_SEEN, LAST_SEEN_RESOLUTION_SECONDS

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def clerk(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "counter_clerk"), username="seen-clerk")


def _set_last_seen(client, seconds_ago: float) -> float:
    session = client.session
    session[LAST_SEEN] = timezone.now().timestamp() - seconds_ago
    session.save()
    return session[LAST_SEEN]


def _session_writes(client, path: str) -> int:
    with CaptureQueriesContext(connections["default"]) as queries:
        assert client.get(path).status_code == 200
    return sum(
        1 for q in queries.captured_queries if q["sql"].startswith('UPDATE "django_session"')
    )


@pytest.mark.parametrize(
    ("seconds_ago", "rewritten"),
    [
        (1, False),
        (LAST_SEEN_RESOLUTION_SECONDS - 2, False),
        (LAST_SEEN_RESOLUTION_SECONDS + 1, True),
        (14 * 60, True),
    ],
)
def test_last_seen_is_rewritten_only_when_older_than_the_resolution(
    clerk, signed_in, seconds_ago, rewritten
):
    client = signed_in(clerk)
    home = reverse("web:home", args=["131016"])
    stamp = _set_last_seen(client, seconds_ago)
    writes = _session_writes(client, home)
    assert (client.session[LAST_SEEN] > stamp) is rewritten
    assert writes == (1 if rewritten else 0)


def test_idle_past_the_timeout_still_logs_out(clerk, signed_in, settings):
    client = signed_in(clerk)
    _set_last_seen(client, settings.MACHI_SESSION_IDLE_TIMEOUT.total_seconds() + 1)
    response = client.get(reverse("web:home", args=["131016"]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
