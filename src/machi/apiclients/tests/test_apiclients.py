"""API clients: tokens hashed and shown once, services, the CLI and the admin screen."""

from __future__ import annotations

import datetime
import hashlib
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from machi.accounts.roles import Role
from machi.apiclients import selectors, services
from machi.apiclients.models import ApiClient
from machi.tenancy.context import tenant_context

from .conftest import A, B, QueryCount, audit_entries

pytestmark = pytest.mark.django_db(databases="__all__")


def test_token_is_shown_once_and_stored_hashed(make_client):
    client, token = make_client("events:read", "residents:read")
    assert token.startswith("machi_") and len(token) == len("machi_") + 43
    with tenant_context(A):
        row = ApiClient.objects.values().get(pk=client.pk)
        assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
        assert row["token_prefix"] == token[:14]
        # The token itself is nowhere: not in the row, not in the audit entry.
        assert token not in json.dumps(row, default=str)
        (entry,) = audit_entries(A, action="apiclient.created")
        assert token not in json.dumps(entry.detail)
        assert entry.detail["scopes"] == ["events:read", "residents:read"]
        assert selectors.apiclient_by_token(token=token) == client
        assert selectors.apiclient_by_token(token=token[:20]) is None
        assert selectors.apiclient_by_token(token="machi_" + "x" * 43) is None
    # Two clients never share a token or a lookup prefix.
    _, other = make_client("events:read")
    assert other != token and other[:14] != token[:14]


def test_tampered_token_with_the_right_prefix_is_unknown(make_client):
    _, token = make_client("events:read")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with tenant_context(A):
        assert selectors.apiclient_by_token(token=tampered) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": " ", "scopes": ["events:read"]}, "名称"),
        ({"name": "x", "scopes": []}, "権限を1つ以上"),
        ({"name": "x", "scopes": ["events:read", "events:write"]}, "events:write"),
        (
            {"name": "x", "scopes": ["events:read"],
             "expires_at": timezone.now() - datetime.timedelta(seconds=1)},
            "有効期限",
        ),
    ],
)  # fmt: skip
def test_create_refuses_bad_input(municipality_a, kwargs, message):
    with tenant_context(A), pytest.raises(ValidationError) as error:
        services.apiclient_create(**kwargs)
    assert message in " ".join(error.value.messages)
    with tenant_context(A):
        assert not ApiClient.objects.exists()


def test_scopes_are_kept_in_canonical_order(municipality_a):
    with tenant_context(A):
        created = services.apiclient_create(
            name="x", scopes=["residents:read", " events:read", "residents:read"]
        )
    assert created.client.scopes == ["events:read", "residents:read"]


def test_expiry_date_means_through_that_day_in_japan():
    expires = services.expiry_end_of_day(datetime.date(2027, 3, 31))
    assert expires.isoformat() == "2027-04-01T00:00:00+09:00"


def test_last_used_is_written_at_most_once_a_minute(make_client):
    client, _ = make_client("events:read")
    now = timezone.now()
    with tenant_context(A):
        with QueryCount() as first:
            services.apiclient_touch(client=client, now=now)
        with QueryCount() as second:
            services.apiclient_touch(client=client, now=now + datetime.timedelta(seconds=59))
        with QueryCount() as third:
            services.apiclient_touch(client=client, now=now + datetime.timedelta(seconds=61))
        client.refresh_from_db()
    assert (first.total, second.total, third.total) == (1, 0, 1)
    assert client.last_used_at == now + datetime.timedelta(seconds=61)


def test_revoke_is_audited_and_idempotent(make_client, make_staff, municipality_a):
    admin = make_staff(municipality_a, ("shimin", Role.MUNICIPALITY_ADMIN))
    client, _ = make_client("events:read")
    with tenant_context(A):
        services.apiclient_revoke(client=client, actor=admin)
        first = client.revoked_at
        services.apiclient_revoke(client=client, actor=admin)
        client.refresh_from_db()
    assert client.revoked_at == first and client.revoked_by_username == admin.username
    (entry,) = audit_entries(A, action="apiclient.revoked")
    assert entry.actor_id == admin.pk and entry.object_id == str(client.pk)


# --- CLI ---------------------------------------------------------------------------------


def _run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("apiclient", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_cli_create_list_revoke(municipality_a, api):
    out, err = _run(
        "create", "--tenant", A, "--name", "国保システム",
        "--scopes", "events:read,residents:read", "--expires", "2099-03-31",
    )  # fmt: skip
    token = out.strip()
    assert token.startswith("machi_") and "トークンは今だけ表示されます" in err
    assert api(token).get("/events").status_code == 200

    out, _ = _run("list", "--tenant", A, "--json")
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert row["name"] == "国保システム" and row["state"] == "active"
    assert row["scopes"] == ["events:read", "residents:read"]
    assert row["expires_at"].startswith("2099-04-01T00:00:00")
    assert row["last_used_at"] is not None
    assert token not in out and row["token_prefix"] == token[:14]
    out, _ = _run("list", "--tenant", A)
    assert "国保システム" in out and "active" in out

    out, _ = _run("revoke", "--tenant", A, str(row["id"]))
    assert "失効させました" in out
    assert api(token).get("/events").status_code == 401
    out, _ = _run("list", "--tenant", A, "--json")
    assert json.loads(out)["state"] == "revoked"
    # The CLI's changes are audited as the CLI's.
    actions = [e.action for e in audit_entries(A, user_agent="machi CLI")]
    assert actions == ["apiclient.created", "apiclient.revoked"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "--name", "x", "--scopes", "events:reed"], "events:reed"),
        (["create", "--name", "x", "--scopes", "events:read", "--expires", "31/3/2027"], "YYYY"),
        (["create", "--name", "x", "--scopes", "events:read", "--expires", "2001-01-01"],
         "有効期限"),
        (["revoke", "999999"], "999999"),
    ],
)  # fmt: skip
def test_cli_errors(municipality_a, args, message):
    with pytest.raises(CommandError, match=message):
        _run(args[0], "--tenant", A, *args[1:])


def test_cli_clients_are_per_municipality(municipality_a, municipality_b):
    _run("create", "--tenant", A, "--name", "A のシステム", "--scopes", "events:read")
    out, _ = _run("list", "--tenant", B, "--json")
    assert out == ""


# --- the administrator's screen ----------------------------------------------------------


def _url(lg_code=A):
    return f"/{lg_code}/admin/api-clients/"


def test_admin_creates_sees_token_once_and_revokes(make_staff, signed_in, municipality_a, api):
    admin = make_staff(municipality_a, ("shimin", Role.MUNICIPALITY_ADMIN))
    browser = signed_in(admin)
    page = browser.get(_url())
    assert page.status_code == 200 and "まだ登録されていません" in page.content.decode()
    assert f'href="{_url()}"' in browser.get(f"/{A}/home/").content.decode()  # in the navigation
    response = browser.post(
        _url(), {"name": "児童手当システム", "scopes": ["events:read", "residents:read"],
                 "expires_on": "2099-03-31"},
    )  # fmt: skip
    assert response.status_code == 200
    html = response.content.decode()
    with tenant_context(A):
        client = ApiClient.objects.get()
    token = html.split('id="new-token" type="text" readonly value="')[1].split('"')[0]
    assert token.startswith(client.token_prefix)
    assert response.headers["Cache-Control"].startswith("max-age=0")
    assert api(token).get("/events").status_code == 200
    # Shown once: the list page afterwards has the prefix only.
    later = browser.get(_url()).content.decode()
    assert token not in later and f"{client.token_prefix}…" in later and "児童手当システム" in later
    (created,) = audit_entries(A, action="apiclient.created")
    assert created.actor_id == admin.pk

    response = browser.post(f"{_url()}{client.pk}/revoke/")
    assert response.status_code == 302
    assert "失効させました" in browser.get(_url()).content.decode()
    assert api(token).get("/events").status_code == 401
    (revoked,) = audit_entries(A, action="apiclient.revoked")
    assert revoked.actor_id == admin.pk


def test_admin_form_errors(make_staff, signed_in, municipality_a):
    browser = signed_in(make_staff(municipality_a, ("shimin", Role.MUNICIPALITY_ADMIN)))
    response = browser.post(_url(), {"name": "x", "expires_on": "2001-01-01"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "有効期限は今日以降" in html and 'role="alert"' in html
    with tenant_context(A):
        assert not ApiClient.objects.exists()


@pytest.mark.parametrize("role", [Role.COUNTER_CLERK, Role.DEPARTMENT_STAFF, Role.SUPERVISOR])
def test_only_municipality_admins_manage_clients(role, make_staff, signed_in, municipality_a,
                                                 make_client):  # fmt: skip
    client, _ = make_client("events:read")
    browser = signed_in(make_staff(municipality_a, ("shimin", role)))
    assert browser.get(_url()).status_code == 403
    assert browser.post(_url(), {"name": "x", "scopes": ["events:read"]}).status_code == 403
    assert browser.post(f"{_url()}{client.pk}/revoke/").status_code == 403
    with tenant_context(A):
        assert ApiClient.objects.get().revoked_at is None
        assert ApiClient.objects.count() == 1


def test_admin_of_b_cannot_touch_clients_of_a(make_staff, signed_in, municipality_b, make_client):
    client, _ = make_client("events:read")
    browser = signed_in(make_staff(municipality_b, ("shimin", Role.MUNICIPALITY_ADMIN)))
    assert browser.post(f"{_url(A)}{client.pk}/revoke/").status_code == 403
    # At B's own URL the id names nothing (B's database has no such client).
    assert browser.post(f"{_url(B)}{client.pk}/revoke/").status_code == 404
    assert "まだ登録されていません" in browser.get(_url(B)).content.decode()
    with tenant_context(A):
        assert ApiClient.objects.get().revoked_at is None


def test_admin_list_query_count(make_staff, signed_in, municipality_a, make_client):
    browser = signed_in(make_staff(municipality_a, ("shimin", Role.MUNICIPALITY_ADMIN)))
    for n in range(3):
        make_client("events:read", name=f"システム{n}")
    browser.get(_url())
    with QueryCount() as small_count:
        small = browser.get(_url())
    for n in range(20):
        make_client("events:read", name=f"追加{n}")
    with QueryCount() as large_count:
        large = browser.get(_url())
    assert small.status_code == large.status_code == 200
    assert large_count.total == small_count.total <= 12, large_count.sql()
    assert large.content.decode().count("失効させる</button>") == 23
