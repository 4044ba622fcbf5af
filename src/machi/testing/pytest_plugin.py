"""machi's pytest plugin, loaded with `-p machi.testing.pytest_plugin` (see pyproject.toml).

It runs before pytest-django imports the settings, so it can point them at
throwaway databases: MACHI_TEST_DB=sqlite (default) uses a temporary data
directory; MACHI_TEST_DB=postgres starts a PostgreSQL server for the session
(or skips every database test with the reason when PostgreSQL is not installed).
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_state: dict[str, object] = {}


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    data_dir = tempfile.mkdtemp(prefix="machi-test-")
    _state["data_dir"] = data_dir
    os.environ["MACHI_DATA_DIR"] = data_dir
    os.environ.setdefault("MACHI_SECRET_KEY", "test-only-secret-key-" + "x" * 40)
    os.environ.setdefault("MACHI_DEBUG", "0")
    os.environ.setdefault("MACHI_SSL_REDIRECT", "0")
    backend = os.environ.get("MACHI_TEST_DB", "sqlite")
    _state["backend"] = backend
    if backend == "postgres":
        from machi.testing.postgres import PostgresUnavailable, start_server

        try:
            server = start_server()
        except PostgresUnavailable as error:
            _state["skip_reason"] = f"PostgreSQL run skipped: {error}"
        else:
            _state["server"] = server
            os.environ["MACHI_DATABASE_URL"] = server.url("machi_control")
            os.environ["MACHI_TENANT_DATABASE_URL_TEMPLATE"] = server.url("machi_test_{lg_code}")
    elif backend != "sqlite":
        raise pytest.UsageError("MACHI_TEST_DB must be 'sqlite' or 'postgres'")
    return (yield)


def pytest_report_header(config):
    backend = _state.get("backend")
    if "skip_reason" in _state:
        return f"machi database: {backend} ({_state['skip_reason']})"
    server = _state.get("server")
    where = f"port {server.port}" if server else _state.get("data_dir")
    return f"machi database: {backend} ({where})"


def pytest_collection_modifyitems(config, items):
    reason = _state.get("skip_reason")
    if not reason:
        return
    marker = pytest.mark.skip(reason=str(reason))
    for item in items:
        item.add_marker(marker)


def pytest_unconfigure(config):
    server = _state.pop("server", None)
    if server is not None:
        server.stop()
    data_dir = _state.pop("data_dir", None)
    if data_dir:
        shutil.rmtree(str(data_dir), ignore_errors=True)
