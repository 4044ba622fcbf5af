from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.test import Client

from machi.registry.services import Address, Filing, Person, resident_move_in
from machi.tenancy.context import tenant_context

A, B = "131016", "271403"
ADDRESS = Address(
    prefecture="東京都", city="千代田区", machiaza="千代田", banchi="1-1", postal_code="1000001"
)
ALL_SCOPES = ("events:read", "residents:read", "residents:read:my_number", "life_events:write")


def person(name, kana, birth="1980-05-10", relationship="世帯主", sex="1", **extra) -> Person:
    return Person(
        name=name, kana=kana, birth_date=birth, relationship=relationship, sex=sex, **extra
    )


@pytest.fixture
def make_client(db) -> Callable:
    """make_client("events:read", …, lg_code=A, expires_at=None) → (ApiClient, token)."""
    from machi.apiclients.services import apiclient_create

    def make(*scopes, lg_code=A, name="国保システム", expires_at=None):
        with tenant_context(lg_code):
            created = apiclient_create(
                name=name, scopes=scopes or ALL_SCOPES, expires_at=expires_at
            )
        return created.client, created.token

    return make


class Api:
    """A test client speaking to /api/v1/<lg_code>/ with a Bearer token."""

    def __init__(self, token: str | None, lg_code: str = A) -> None:
        self.token = token
        self.lg_code = lg_code
        self.http = Client()

    def get(self, path: str, **params):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return self.http.get(f"/api/v1/{self.lg_code}{path}", params, headers=headers)


@pytest.fixture
def api() -> Callable[..., Api]:
    return Api


def move_in_at(lg_code: str, persons, *, address=ADDRESS):
    with tenant_context(lg_code):
        return resident_move_in(
            persons=persons,
            address=address,
            household=None,
            filing=Filing(effective_on="2026-04-03", filed_on=datetime.date(2026, 4, 6)),
        )


@pytest.fixture
def residents_a(municipality_a):
    """A household of two in A: 髙橋 一郎 (with a My Number) and 髙橋 花子 (without)."""
    return move_in_at(
        A,
        [
            person("髙橋 一郎", "たかはし いちろう", my_number="123456789018"),
            person("髙橋 花子", "たかはし はなこ", birth="1982-01-02", relationship="妻", sex="2"),
        ],
    )


@pytest.fixture
def residents_b(municipality_b):
    return move_in_at(
        B,
        [person("髙橋 次郎", "たかはし じろう", my_number="123456789018")],
        address=Address(
            prefecture="大阪府", city="堺市堺区", machiaza="南瓦町", banchi="3-1",
            postal_code="5900078",
        ),
    )  # fmt: skip


def audit_entries(lg_code: str, **filters):
    from machi.audit.models import AuditEntry

    with tenant_context(lg_code):
        return list(AuditEntry.objects.filter(**filters).order_by("seq"))


class QueryCount:
    """Queries on the control and a tenant database, together (``with QueryCount(A) as q``)."""

    def __init__(self, lg_code: str = A) -> None:
        from django.db import connections
        from django.test.utils import CaptureQueriesContext

        from machi.tenancy.databases import ensure_tenant_connection

        ensure_tenant_connection(lg_code)
        self.contexts = [
            CaptureQueriesContext(connections["default"]),
            CaptureQueriesContext(connections[f"tenant_{lg_code}"]),
        ]

    def __enter__(self) -> QueryCount:
        for context in self.contexts:
            context.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        for context in self.contexts:
            context.__exit__(*exc)

    @property
    def total(self) -> int:
        return sum(len(context) for context in self.contexts)

    @property
    def tenant(self) -> int:
        return len(self.contexts[1])

    def sql(self) -> str:
        return "\n".join(q["sql"] for c in self.contexts for q in c.captured_queries)
