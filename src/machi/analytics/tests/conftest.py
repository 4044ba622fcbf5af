"""The scratch municipality (fixtures.py), made once per test session for every module
here, and its control row with staff for the page tests."""

from __future__ import annotations

import pytest

from machi.analytics.tests import fixtures


@pytest.fixture(scope="session")
def scratch(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        lg_code = fixtures.create()
    yield lg_code
    with django_db_blocker.unblock():
        fixtures.drop()


@pytest.fixture
def sapporo(scratch, db):
    """The scratch municipality's control row and departments (rolled back per test)."""
    from machi.accounts.services import departments_create_defaults
    from machi.tenancy.databases import default_database_url
    from machi.tenancy.models import Municipality

    municipality = Municipality.objects.create(
        lg_code=scratch,
        name="福岡市",
        prefecture="福岡県",
        database_url=default_database_url(scratch),
    )
    departments_create_defaults(municipality=municipality)
    return municipality
