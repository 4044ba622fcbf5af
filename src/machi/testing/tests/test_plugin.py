"""The pytest plugin: a PostgreSQL run whose server did not start must not pass, and every
run writes the summary that `./dev test` compares (issue 12).

Each case runs pytest in a subprocess on a tiny suite of its own, so the outer run's
database is not involved.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from machi.testing.report import Summary, compare, main, uses_database

SUITE = """
import pytest

def test_one():
    pass

def test_two():
    pass

@pytest.mark.skip(reason="not today")
def test_skipped():
    pass
"""


@pytest.fixture
def run(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -ra -p machi.testing.pytest_plugin\n")
    (tmp_path / "test_tiny.py").write_text(SUITE)
    report = tmp_path / "report.json"

    def run(**env):
        clean = {
            k: v for k, v in os.environ.items() if not k.startswith(("MACHI_", "CI", "PYTEST_"))
        }
        clean |= {"MACHI_TEST_REPORT": str(report), **env}
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
            cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        summary = Summary.read(report) if report.exists() else None
        return result, summary

    return run


def test_sqlite_run_writes_its_counts(run):
    result, summary = run(MACHI_TEST_DB="sqlite")
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary.backend == "sqlite"
    assert summary.counts["passed"] == 2
    assert summary.counts["skipped"] == 1
    assert summary.counts["failed"] == 0
    assert summary.database_tests == []  # none of these tests uses a database
    assert summary.exitstatus == 0


def test_postgres_that_does_not_start_fails_the_session(run, tmp_path):
    bindir = tmp_path / "pgbin"
    bindir.mkdir(mode=0o755)
    for name in ("initdb", "pg_ctl", "postgres"):
        path = bindir / name
        path.write_text("#!/bin/sh\necho 'could not create the data directory' >&2\nexit 1\n")
        path.chmod(0o755)
    # As root the helper runs the binaries as another user, who must reach them.
    tmp_path.chmod(0o755)
    result, summary = run(MACHI_TEST_DB="postgres", MACHI_PG_BINDIR=str(bindir))
    assert result.returncode != 0
    assert "did not start, so nothing was tested" in result.stdout + result.stderr
    assert "passed" not in result.stdout.splitlines()[-1]
    assert summary.database_error
    assert summary.counts["passed"] == 0


def test_postgres_not_installed_is_skipped_with_the_reason_outside_ci(run, tmp_path):
    result, summary = run(MACHI_TEST_DB="postgres", MACHI_PG_BINDIR=str(tmp_path / "absent"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PostgreSQL run skipped" in result.stdout
    assert summary.counts["skipped"] == 3
    assert summary.counts["passed"] == 0
    assert "has no initdb" in summary.database_skipped


@pytest.mark.parametrize("env", [{"CI": "true"}, {"MACHI_TEST_REQUIRE_POSTGRES": "1"}])
def test_postgres_not_installed_fails_under_ci(run, tmp_path, env):
    result, summary = run(MACHI_TEST_DB="postgres", MACHI_PG_BINDIR=str(tmp_path / "absent"), **env)
    assert result.returncode != 0
    assert "PostgreSQL is required here" in result.stdout + result.stderr
    assert summary.database_error


DATABASE_SUITE = """
import pytest

@pytest.fixture
def transactional_db():  # stands for pytest-django's: the plugin goes by fixture names
    yield

@pytest.fixture
def machi_server():  # the browser suite's server, on the pass's database
    yield

def test_pure_python():
    pass

def test_with_a_database(transactional_db):
    pass

def test_through_the_server(machi_server):
    pass
"""


def test_a_database_only_run_leaves_out_the_tests_without_a_database(run, tmp_path):
    (tmp_path / "test_tiny.py").write_text(DATABASE_SUITE)
    result, summary = run(MACHI_TEST_DB="sqlite", MACHI_TEST_DATABASE_ONLY="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed, 1 deselected" in result.stdout
    assert summary.counts["passed"] == 2

    result, summary = run(MACHI_TEST_DB="sqlite")
    assert "3 passed" in result.stdout
    assert "deselected" not in result.stdout


def test_an_unknown_backend_is_refused(run):
    result, _ = run(MACHI_TEST_DB="mysql")
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert "MACHI_TEST_DB must be 'sqlite' or 'postgres'" in result.stderr


def _summary(backend, tests, **fields):
    return Summary(backend=backend, database_tests=list(tests), **fields)


def test_compare_accepts_the_same_database_tests_on_both():
    tests = ["a.py::test_1", "a.py::test_2"]
    assert compare(_summary("sqlite", tests), _summary("postgres", tests)) == []


def test_compare_names_the_database_tests_postgres_did_not_run():
    problems = compare(
        _summary("sqlite", ["a.py::test_1", "a.py::test_2"]),
        _summary("postgres", ["a.py::test_1"]),
    )
    assert "ran 1 database tests, the SQLite run 2" in problems[0]
    assert problems[1:] == ["  ran on SQLite only: a.py::test_2"]


def test_compare_fails_when_postgres_did_not_start():
    problems = compare(
        _summary("sqlite", ["a.py::test_1"]),
        _summary("postgres", [], database_error="initdb failed"),
    )
    assert problems == ["The PostgreSQL database did not start: initdb failed"]


def test_compare_accepts_a_postgres_run_skipped_for_missing_binaries():
    skipped = _summary("postgres", [], database_skipped="PostgreSQL run skipped: not found")
    assert compare(_summary("sqlite", ["a.py::test_1"]), skipped) == []


def test_the_command_prints_both_runs_and_fails_on_fewer_postgres_tests(tmp_path, capsys):
    sqlite, postgres = tmp_path / "sqlite.json", tmp_path / "postgres.json"
    _summary("sqlite", ["a.py::test_1", "a.py::test_2"]).write(sqlite)
    _summary("postgres", ["a.py::test_1"]).write(postgres)
    assert main([str(sqlite), str(postgres)]) == 1
    out, err = capsys.readouterr()
    assert "SQLite" in out and "PostgreSQL" in out
    assert "ran on SQLite only: a.py::test_2" in err

    _summary("postgres", ["a.py::test_1", "a.py::test_2"]).write(postgres)
    assert main([str(sqlite), str(postgres)]) == 0


def test_the_command_fails_without_a_report(tmp_path, capsys):
    sqlite = tmp_path / "sqlite.json"
    _summary("sqlite", []).write(sqlite)
    (tmp_path / "broken.json").write_text(json.dumps({"backend": "postgres"}))
    assert main([str(sqlite), str(tmp_path / "missing.json")]) == 1
    assert main([str(sqlite), str(tmp_path / "broken.json")]) == 1
    assert "No usable report from the PostgreSQL run" in capsys.readouterr().err


@pytest.mark.django_db
def test_a_django_db_test_counts_as_a_database_test(request):
    assert uses_database(request.node)


def test_a_test_with_the_db_fixture_counts_as_a_database_test(request, db):
    assert uses_database(request.node)


def test_a_test_without_a_database_does_not_count(request):
    assert not uses_database(request.node)
