"""Shared fixtures: two municipalities with their own databases, staff, signed-in clients.

The municipalities are created once per session (each gets a real database,
SQLite file or PostgreSQL database); every test runs in transactions on the
control and every tenant database that are rolled back afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

pytest_plugins = ["machi.testing.smtp"]

TEST_MUNICIPALITIES = [("131016", "千代田区"), ("271403", "堺市")]
PASSWORD = "correct-horse-battery-staple"


def pytest_configure(config):
    from django.conf import settings

    # Production settings hash static files at collectstatic time; tests serve them as is.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
    # PBKDF2's million rounds cost 0.4 s a staff member; thousands of test staff made
    # that the suite's largest cost. Production keeps its hashers (settings.py, and the
    # test of them in accounts/tests/test_password_hashers.py).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def django_db_modify_db_settings_xdist_suffix():
    """No _gw0 suffix on test database names: under xdist each worker already has a data
    directory and a PostgreSQL server of its own (machi.testing.pytest_plugin), and the
    suffix would turn the SQLite file path into one whose directory does not exist."""


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from machi.tenancy.services import municipality_create

    with django_db_blocker.unblock():
        for lg_code, name in TEST_MUNICIPALITIES:
            municipality_create(lg_code=lg_code, name=name)


@pytest.fixture
def municipality_a(db):
    from machi.tenancy.models import Municipality

    return Municipality.objects.get(lg_code="131016")


@pytest.fixture
def municipality_b(db):
    from machi.tenancy.models import Municipality

    return Municipality.objects.get(lg_code="271403")


@pytest.fixture
def make_staff(db) -> Callable:
    """Create a staff member: make_staff(municipality, ("shimin", "counter_clerk"), …)."""
    from machi.accounts.services import staff_create

    counter = iter(range(1, 10_000))

    def make(municipality=None, *memberships, username=None, totp=True, **kwargs):
        staff = staff_create(
            username=username or f"staff{next(counter)}",
            display_name="試験 職員",
            password=PASSWORD,
            municipality=municipality,
            memberships=list(memberships) or None,
            is_platform_operator=municipality is None,
            **kwargs,
        )
        if totp:
            TOTPDevice.objects.create(user=staff, name="test", confirmed=True)
        return staff

    return make


def sign_in(client: Client, staff) -> Client:
    """A client signed in with password and a verified second factor."""
    from django.utils import timezone

    from machi.accounts.middleware import LAST_SEEN, LOGIN_AT

    client.force_login(staff)
    session = client.session
    device = TOTPDevice.objects.filter(user=staff, confirmed=True).first()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    now = timezone.now().timestamp()
    session[LOGIN_AT] = now
    session[LAST_SEEN] = now
    session.save()
    return client


@pytest.fixture
def signed_in() -> Callable[[object], Client]:
    return lambda staff: sign_in(Client(), staff)


@pytest.fixture
def new_tenants(monkeypatch, django_db_blocker):
    """For tests that create municipalities: allows their new databases, drops them after.

    Append each lg_code the test creates to the yielded list.
    """
    from pathlib import Path

    from django.db import connections

    from machi.tenancy.context import tenant_alias
    from machi.tenancy.databases import unregister_tenant_connection

    # Django's test cases refuse connections to aliases a test did not declare up front;
    # a municipality created inside the test gets a new alias, so allow connections.
    monkeypatch.setattr(
        BaseDatabaseWrapper, "ensure_connection", django_db_blocker._real_ensure_connection
    )
    created: list[str] = []
    yield created
    for lg_code in created:
        settings_dict = connections.settings.get(tenant_alias(lg_code))
        unregister_tenant_connection(lg_code)
        if settings_dict is None:
            continue
        if settings_dict["ENGINE"].endswith("sqlite3"):
            for suffix in ("", "-wal", "-shm"):
                Path(settings_dict["NAME"] + suffix).unlink(missing_ok=True)
        else:
            import psycopg

            with (
                contextlib.suppress(psycopg.OperationalError),
                psycopg.connect(
                    host=settings_dict["HOST"],
                    port=settings_dict["PORT"],
                    user=settings_dict["USER"],
                    dbname="postgres",
                    autocommit=True,
                ) as conn,
            ):
                conn.execute(f'DROP DATABASE IF EXISTS "{settings_dict["NAME"]}" WITH (FORCE)')
