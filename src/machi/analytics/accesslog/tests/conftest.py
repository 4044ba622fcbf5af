from __future__ import annotations

import pytest

from machi.analytics.accesslog.tests import scratch


@pytest.fixture(scope="session")
def log(django_db_setup, django_db_blocker):
    """The synthetic log with its scenarios, written into the scratch municipality."""
    made = scratch.make_log(inject=True)
    with django_db_blocker.unblock():
        scratch.create(scratch.INJECTED, made)
    yield made
    with django_db_blocker.unblock():
        scratch.drop(scratch.INJECTED)
