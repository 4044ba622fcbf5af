from __future__ import annotations

import datetime

import pytest

from machi.registry.services import Address, Filing, Person, resident_move_in
from machi.tenancy.context import tenant_context

ADDRESS = Address(
    prefecture="東京都", city="千代田区", machiaza="千代田", banchi="1-1", postal_code="1000001"
)


@pytest.fixture
def in_a(municipality_a):
    with tenant_context("131016"):
        yield


@pytest.fixture
def move_in(in_a):
    """move_in([Person…]) → residents, recorded as a 転入 filed today."""

    def run(persons, *, address=ADDRESS, household=None, actor=None):
        return resident_move_in(
            persons=persons,
            address=address,
            household=household,
            filing=Filing(
                effective_on="2026-04-03", filed_on=datetime.date(2026, 4, 6), actor=actor
            ),
        )

    return run


def person(name, kana, birth="1980-05-10", relationship="世帯主", sex="1", **extra) -> Person:
    return Person(
        name=name, kana=kana, birth_date=birth, relationship=relationship, sex=sex, **extra
    )
