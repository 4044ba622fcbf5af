"""Test-collection shims for the API fuzz run (test_api_fuzz.py)."""

from __future__ import annotations

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """One node id per API operation: ``test_api[GET /api/v1/health]``.

    pytest 9.2 builds a test function's node id from ``originalname``, and schemathesis
    4.32.5 passes the bare function name there, so every operation of a
    ``@schema.parametrize()`` test got the same id (``-k``, reports and the per-database
    summary could not tell them apart). The operation stays in the item's name.
    """
    from schemathesis.pytest.plugin import SchemathesisFunction

    for item in items:
        if not isinstance(item, SchemathesisFunction) or item.name == item.originalname:
            continue
        params = item.name.removeprefix(item.originalname)
        if params.startswith("[") and params.endswith("]") and item.id.params is None:
            item._id = item.parent.id.child(item.originalname).with_params(params[1:-1])
