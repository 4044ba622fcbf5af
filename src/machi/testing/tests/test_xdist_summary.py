"""The per-database summary of a run under pytest-xdist (issue 12).

Under `-n N` the workers run the tests and the controller writes the summary from the
reports they send it. Each case runs pytest with `-n 2` in a subprocess on a tiny suite
of its own (the plugin keeps its state in module globals and sets the process's
environment, so it cannot run inside this session with pytester), then reads the JSON
summary and runs `python -m machi.testing.report` on two of them as `./dev test` does.

The tiny suite needs no Django: its `db` fixture stands in for pytest-django's, as the
plugin counts any test that asks for a fixture of that name as a database test. On
PostgreSQL each worker still starts a real server of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from machi.testing.postgres import PostgresNotInstalled, _find_bindir
from machi.testing.report import Summary

CONFTEST = '''
import os
from pathlib import Path

import pytest


@pytest.fixture
def db():
    return os.environ["MACHI_TEST_DB"]


@pytest.fixture(autouse=True)
def where(request):
    """Which worker ran the test, and the database URL the plugin gave that worker."""
    line = f"{os.environ['PYTEST_XDIST_WORKER']} {os.environ.get('MACHI_DATABASE_URL', '-')}"
    (Path(os.environ["TINY_OUT"]) / request.node.name).write_text(line)
'''

SUITE_A = """
import pytest

def test_db_one(db):
    assert db

def test_db_two(db):
    assert db

def test_plain():
    pass

@pytest.mark.skip(reason="not today")
def test_db_skipped(db):
    pass
"""

# TINY_SKIP_ON_POSTGRES: a database test that gives up in its body on PostgreSQL, as a
# test might for a feature that backend lacks. Its body did not test PostgreSQL.
SUITE_B = """
import os

import pytest

def test_db_three(db):
    assert db

def test_db_everywhere(db):
    if db == "postgres" and os.environ.get("TINY_SKIP_ON_POSTGRES"):
        pytest.skip("not on PostgreSQL")

@pytest.mark.xfail(reason="a known bug", strict=True)
def test_db_known_bug(db):
    assert db is None
"""

DATABASE_TESTS = sorted(
    f"{module}::{name}"
    for module, name in [
        ("test_tiny_a.py", "test_db_one"),
        ("test_tiny_a.py", "test_db_two"),
        ("test_tiny_b.py", "test_db_three"),
        ("test_tiny_b.py", "test_db_everywhere"),
        ("test_tiny_b.py", "test_db_known_bug"),  # xfailed: its body ran, on the database
    ]
)


class Run:
    """One `pytest -n 2` of the tiny suite: its process result, summary and witnesses."""

    def __init__(self, root: Path, name: str, env: dict[str, str]):
        self.out = root / f"{name}-out"
        self.out.mkdir()
        self.report = root / f"{name}.json"
        clean = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("MACHI_", "CI", "PYTEST_", "DJANGO_"))
        }
        clean |= {"MACHI_TEST_REPORT": str(self.report), "TINY_OUT": str(self.out), **env}
        self.result = subprocess.run(
            [sys.executable, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", str(root)],
            cwd=root, env=clean, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        self.output = self.result.stdout + self.result.stderr
        self.summary = Summary.read(self.report) if self.report.exists() else None

    def witnesses(self) -> dict[str, tuple[str, str]]:
        """test name -> (worker, database URL) for every test whose fixtures ran."""
        return {path.name: tuple(path.read_text().split(" ", 1)) for path in self.out.iterdir()}


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    root = tmp_path_factory.mktemp("xdist-suite")
    # As root the PostgreSQL helper runs the server as another user, who must reach it.
    root.chmod(0o755)
    (root / "pytest.ini").write_text("[pytest]\naddopts = -ra -p machi.testing.pytest_plugin\n")
    (root / "conftest.py").write_text(CONFTEST)
    (root / "test_tiny_a.py").write_text(SUITE_A)
    (root / "test_tiny_b.py").write_text(SUITE_B)
    return root


@pytest.fixture(scope="module")
def sqlite_run(suite):
    return Run(suite, "sqlite", {"MACHI_TEST_DB": "sqlite"})


@pytest.fixture(scope="module")
def postgres_bindir():
    try:
        return _find_bindir()
    except PostgresNotInstalled as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL is not installed here: {error}")


@pytest.fixture(scope="module")
def postgres_run(suite, postgres_bindir):
    return Run(suite, "postgres", {"MACHI_TEST_DB": "postgres"})


def compare(sqlite: Run, postgres: Run) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "machi.testing.report", str(sqlite.report), str(postgres.report)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_the_controller_counts_the_reports_of_every_worker(sqlite_run):
    assert sqlite_run.result.returncode == 0, sqlite_run.output
    assert "machi database: sqlite (one per xdist worker)" in sqlite_run.output
    # Both workers ran tests: the counts below are gathered across processes.
    assert {worker for worker, _ in sqlite_run.witnesses().values()} == {"gw0", "gw1"}
    summary = sqlite_run.summary
    assert summary.backend == "sqlite"
    assert summary.counts == {
        "passed": 5, "failed": 0, "skipped": 1, "xfailed": 1, "xpassed": 0, "error": 0
    }  # fmt: skip
    assert sorted(summary.database_tests) == DATABASE_TESTS
    assert summary.database_error is None and summary.database_skipped is None
    assert summary.exitstatus == 0


def test_each_postgres_worker_has_a_server_of_its_own(postgres_run):
    assert postgres_run.result.returncode == 0, postgres_run.output
    assert "machi database: postgres (one per xdist worker)" in postgres_run.output
    urls = {}
    for worker, url in postgres_run.witnesses().values():
        urls.setdefault(worker, set()).add(url)
    assert sorted(urls) == ["gw0", "gw1"]
    assert all(len(found) == 1 for found in urls.values()), urls
    (url_0,), (url_1,) = urls.values()
    assert url_0.startswith("postgres") and url_1.startswith("postgres")
    assert url_0 != url_1  # another port: the tenant databases cannot collide


def test_the_same_database_tests_on_both_pass_the_comparison(sqlite_run, postgres_run):
    assert sorted(postgres_run.summary.database_tests) == DATABASE_TESTS
    result = compare(sqlite_run, postgres_run)
    assert result.returncode == 0, result.stdout + result.stderr
    header, sqlite_line, postgres_line = result.stdout.splitlines()
    assert header.split()[:5] == ["database", "passed", "failed", "errors", "skipped"]
    assert sqlite_line.split() == ["SQLite", "5", "0", "0", "1", "5"]
    assert postgres_line.split() == ["PostgreSQL", "5", "0", "0", "1", "5"]


def test_a_postgres_pass_with_fewer_database_tests_fails_the_comparison(
    suite, sqlite_run, postgres_bindir
):
    fewer = Run(
        suite, "postgres-fewer", {"MACHI_TEST_DB": "postgres", "TINY_SKIP_ON_POSTGRES": "1"}
    )
    # pytest itself passes: only the comparison sees that PostgreSQL tested less.
    assert fewer.result.returncode == 0, fewer.output
    assert fewer.summary.counts["skipped"] == 2
    assert "test_tiny_b.py::test_db_everywhere" not in fewer.summary.database_tests
    result = compare(sqlite_run, fewer)
    assert result.returncode == 1
    assert result.stdout.splitlines()[2].split() == ["PostgreSQL", "4", "0", "0", "2", "4"]
    assert "The PostgreSQL run ran 4 database tests, the SQLite run 5" in result.stderr
    assert "ran on SQLite only: test_tiny_b.py::test_db_everywhere" in result.stderr


@pytest.fixture
def failing_bindir():
    """PostgreSQL binaries that fail, where the server's user can run them (as root it is
    another user, who cannot enter pytest's own temporary directories)."""
    with tempfile.TemporaryDirectory(prefix="machi-fake-pg-") as root:
        bindir = Path(root)
        bindir.chmod(0o755)
        for name in ("initdb", "pg_ctl", "postgres"):
            path = bindir / name
            path.write_text("#!/bin/sh\necho 'could not create the data directory' >&2\nexit 1\n")
            path.chmod(0o755)
        yield bindir


def test_a_postgres_pass_whose_servers_do_not_start_fails(suite, sqlite_run, failing_bindir):
    env = {"MACHI_TEST_DB": "postgres", "MACHI_PG_BINDIR": str(failing_bindir)}
    broken = Run(suite, "postgres-broken", env)
    assert broken.result.returncode != 0
    # Each worker errors every test it is given; the controller's summary says why.
    assert broken.witnesses() == {}
    summary = broken.summary
    assert summary.counts["passed"] == 0
    # Every test errors in setup but the one skipped by its marker, and the xfail one,
    # which pytest counts as xfailed whatever its phase of failure.
    assert summary.counts["error"] == 5
    assert summary.counts["xfailed"] == 1
    assert summary.database_tests == []
    assert "could not create the data directory" in summary.database_error
    result = compare(sqlite_run, broken)
    assert result.returncode == 1
    assert "The PostgreSQL database did not start" in result.stderr
