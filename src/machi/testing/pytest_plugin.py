"""machi's pytest plugin, loaded with `-p machi.testing.pytest_plugin` (see pyproject.toml).

It runs before pytest-django imports the settings, so it can point them at
throwaway databases: MACHI_TEST_DB=sqlite (default) uses a temporary data
directory; MACHI_TEST_DB=postgres starts a PostgreSQL server for the session.

A PostgreSQL run whose server did not start fails the session: a run that tested
nothing must not pass. The one exception is a machine without PostgreSQL's
binaries outside CI, where every test is reported skipped with the reason; with
CI set (or MACHI_TEST_REQUIRE_POSTGRES=1) that fails too.

With MACHI_TEST_DATABASE_ONLY=1 the session leaves out (deselects) the tests that touch
no database: `./dev test` sets it for the PostgreSQL pass, since a test of pure Python
gives the same result on both databases and the SQLite pass has run it already.

With MACHI_TEST_REPORT=<path> the session writes a JSON summary there (see
machi.testing.report), which `./dev test` uses to compare the two runs.

Under pytest-xdist (`-n N`) every worker is a session of its own: it gets its own data
directory and, on PostgreSQL, its own server on its own free port, so the tenancy
layer's per-municipality databases (machi_test_<lg_code>) cannot collide between
workers. The controller starts no server; it writes the summary from the reports the
workers send it, each carrying what the worker knows (database test or not, database
skipped or not started). A worker whose server did not start errors every test it is
given, so the run fails and the summary names the error.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from machi.testing.report import Summary, touches_database_layer, uses_database

_state: dict[str, object] = {}


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


def _is_worker() -> bool:
    return "PYTEST_XDIST_WORKER" in os.environ


def _is_controller(early_config) -> bool:
    """True in the xdist controller, which only hands out tests and gathers reports."""
    if _is_worker():
        return False
    numprocesses = getattr(early_config.known_args_namespace, "numprocesses", None)
    return bool(numprocesses) and early_config.pluginmanager.has_plugin("xdist")


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    controller = _is_controller(early_config)
    _state["controller"] = controller
    data_dir = tempfile.mkdtemp(prefix="machi-test-")
    _state["data_dir"] = data_dir
    os.environ["MACHI_DATA_DIR"] = data_dir
    os.environ.setdefault("MACHI_SECRET_KEY", "test-only-secret-key-" + "x" * 40)
    os.environ.setdefault("MACHI_DEBUG", "0")
    os.environ.setdefault("MACHI_SSL_REDIRECT", "0")
    # Test receivers listen on loopback over plain HTTP (production: neither).
    os.environ.setdefault("MACHI_WEBHOOK_ALLOW_HTTP", "1")
    os.environ.setdefault("MACHI_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
    backend = os.environ.get("MACHI_TEST_DB", "sqlite")
    _state["backend"] = backend
    _state["summary"] = Summary(backend=backend)
    if backend == "postgres" and not controller:
        from machi.testing.postgres import PostgresNotInstalled, PostgresUnavailable, start_server

        required = _truthy("CI") or _truthy("MACHI_TEST_REQUIRE_POSTGRES")
        try:
            server = start_server()
        except PostgresNotInstalled as error:
            if required:
                _state["start_error"] = f"PostgreSQL is required here (CI): {error}"
            else:
                _state["skip_reason"] = f"PostgreSQL run skipped: {error}"
        except PostgresUnavailable as error:
            _state["start_error"] = str(error)
        else:
            _state["server"] = server
            os.environ["MACHI_DATABASE_URL"] = server.url("machi_control")
            os.environ["MACHI_TENANT_DATABASE_URL_TEMPLATE"] = server.url("machi_test_{lg_code}")
    elif backend not in ("sqlite", "postgres"):
        raise pytest.UsageError("MACHI_TEST_DB must be 'sqlite' or 'postgres'")
    return (yield)


def pytest_report_header(config):
    backend = _state.get("backend")
    if _state.get("controller"):
        return f"machi database: {backend} (one per xdist worker)"
    if "skip_reason" in _state:
        return f"machi database: {backend} ({_state['skip_reason']})"
    if "start_error" in _state:
        return f"machi database: {backend} (did not start)"
    server = _state.get("server")
    where = f"port {server.port}" if server else _state.get("data_dir")
    return f"machi database: {backend} ({where})"


def pytest_sessionstart(session):
    error = _state.get("start_error")
    # A worker cannot end the whole run from here: it errors each test instead (below).
    if error and not _is_worker():
        summary = _state["summary"]
        summary.database_error = str(error)
        _write_report(summary, exitstatus=int(pytest.ExitCode.INTERNAL_ERROR))
        pytest.exit(
            f"The {_state['backend']} test database did not start, so nothing was tested:\n{error}",
            returncode=pytest.ExitCode.INTERNAL_ERROR,
        )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    if _truthy("MACHI_TEST_DATABASE_ONLY"):
        kept = [item for item in items if touches_database_layer(item)]
        if len(kept) < len(items):
            kept_ids = {id(item) for item in kept}
            config.hook.pytest_deselected(items=[i for i in items if id(i) not in kept_ids])
            items[:] = kept
    reason = _state.get("skip_reason")
    if not reason:
        return
    marker = pytest.mark.skip(reason=str(reason))
    for item in items:
        item.add_marker(marker)


def pytest_runtest_setup(item):
    error = _state.get("start_error")
    if error:
        raise RuntimeError(
            f"The {_state['backend']} test database did not start, so nothing was tested:\n{error}"
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    # What the summary needs from this test, on the report itself: under xdist the
    # controller sees only reports (plain attributes travel with them).
    info: dict[str, object] = {}
    # A call report exists only when setup passed: the body ran, with its database if it
    # has one, unless the body gave up with pytest.skip (an xfailed body did run).
    # sqlite_only tests check SQLite's own mechanisms (journal modes, WAL):
    # PostgreSQL has nothing to run them on, so they are left out of the comparison.
    if (
        report.when == "call"
        and (not report.skipped or hasattr(report, "wasxfail"))
        and uses_database(item)
        and item.get_closest_marker("sqlite_only") is None
    ):
        info["database_test"] = True
    for key in ("skip_reason", "start_error"):
        if key in _state:
            info[key] = str(_state[key])
    if info:
        report.machi = info
    return report


def pytest_configure(config):
    _state["config"] = config


def pytest_runtest_logreport(report):
    if _is_worker():
        return  # the controller counts, from the reports it is sent
    config = _state["config"]
    summary = _state["summary"]
    category = config.hook.pytest_report_teststatus(report=report, config=config)[0]
    summary.record(category)
    info = getattr(report, "machi", None) or {}
    if info.get("database_test"):
        summary.database_tests.append(report.nodeid)
    if info.get("skip_reason"):
        summary.database_skipped = info["skip_reason"]
    if info.get("start_error"):
        summary.database_error = info["start_error"]


def pytest_sessionfinish(session, exitstatus):
    summary = _state.get("summary")
    if summary is not None and not _is_worker():
        _write_report(summary, exitstatus=int(exitstatus))


def _write_report(summary, *, exitstatus: int) -> None:
    path = os.environ.get("MACHI_TEST_REPORT")
    if path:
        summary.exitstatus = exitstatus
        summary.write(path)


def pytest_unconfigure(config):
    server = _state.pop("server", None)
    if server is not None:
        server.stop()
    data_dir = _state.pop("data_dir", None)
    if data_dir:
        shutil.rmtree(str(data_dir), ignore_errors=True)
