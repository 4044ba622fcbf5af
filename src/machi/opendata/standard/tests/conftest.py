from __future__ import annotations

import datetime

import pytest

from machi.opendata.tests.conftest import server_url  # noqa: F401 (real HTTP for ckanapi)
from machi.registry.services import Address, Filing, resident_move_in
from machi.tenancy.context import tenant_context


def address(machiaza: str) -> Address:
    return Address(prefecture="東京都", city="千代田区", machiaza=machiaza, banchi="1-1")


@pytest.fixture
def in_a(municipality_a):
    with tenant_context("131016"):
        yield


@pytest.fixture
def move_in(in_a):
    """move_in([Person…], machiaza, effective) → residents of one new household."""

    def run(persons, machiaza="丸の内一丁目", effective="2026-04-03"):
        return resident_move_in(
            persons=persons,
            address=address(machiaza),
            filing=Filing(effective_on=effective, filed_on=datetime.date(2026, 4, 6)),
        )

    return run
