"""Scratch municipalities with committed synthetic audit logs, for the analyses.

DuckDB reads a municipality's database through a connection of its own, so it sees
committed rows only (the test databases' rows live in transactions rolled back after
each test). A scratch municipality, ``462012`` 鹿児島市 (no other test uses it), is made
once per test session outside every test transaction, with only the tables the analyses
read (the audit log, the counter, the contact center, this app), and dropped at the end.

Its log has the scenarios injected on :data:`DATE_TO` and on the holiday 11/23; every
other day is the clean log (the generator draws the clean days first, so they are the
same as in a log generated with ``inject=False``: :func:`clean_days`).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from machi.analytics.accesslog import synthetic
from machi.analytics.tests import fixtures as analytics_fixtures
from machi.tenancy.context import tenant_alias, tenant_context
from machi.tenancy.databases import default_database_url, register_tenant_connection
from machi.tenancy.services import _create_database

INJECTED = "462012"
APPS = ("audit", "counter", "contact", "accesslog")
DATE_FROM = dt.date(2026, 11, 2)  # a Monday; 11/3 文化の日
DATE_TO = dt.date(2026, 11, 24)  # the day after 勤労感謝の日 (Monday 11/23)
STAFF = 16


def make_log(*, inject: bool) -> synthetic.SyntheticLog:
    return synthetic.synthetic_log(date_from=DATE_FROM, date_to=DATE_TO, staff=STAFF, inject=inject)


def clean_days(log: synthetic.SyntheticLog) -> list[dt.date]:
    """The days of the log no scenario touched."""
    touched = {s.day for s in log.scenarios}
    days, day = [], log.date_from
    while day <= log.date_to:
        if day not in touched:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def create(lg_code: str, log: synthetic.SyntheticLog) -> None:
    url = default_database_url(lg_code)
    _create_database(url)
    register_tenant_connection(lg_code, url)
    for app in APPS:
        call_command(
            "migrate", app, database=tenant_alias(lg_code), interactive=False, verbosity=0,
            skip_checks=True,
        )  # fmt: skip
    with tenant_context(lg_code):
        synthetic.synthetic_write(log)


def drop(lg_code: str) -> None:
    # The dashboards' fixture drops its one scratch municipality, named by a constant.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(analytics_fixtures, "LG_CODE", lg_code)
        analytics_fixtures.drop()
