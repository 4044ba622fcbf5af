"""What a test run did, per database: the JSON the pytest plugin writes and its comparison.

The plugin writes one summary per pytest session to MACHI_TEST_REPORT. `./dev test`
runs the suite on SQLite, then with the same arguments on PostgreSQL, then

    python -m machi.testing.report SQLITE.json POSTGRES.json

which prints the counts of both runs and exits 1 when the PostgreSQL run ran fewer
database tests than the SQLite run: a database that did not really serve the tests
(skipped, failing in setup, not started) must not pass unnoticed.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

# pytest-django's database fixtures; any test whose fixture closure holds one uses a
# database, as does every test marked django_db.
DATABASE_FIXTURES = frozenset(
    {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback",
     "live_server"}
)  # fmt: skip
OUTCOMES = ("passed", "failed", "skipped", "xfailed", "xpassed", "error")
NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def uses_database(item) -> bool:
    if item.get_closest_marker("django_db") is not None:
        return True
    return bool(DATABASE_FIXTURES.intersection(getattr(item, "fixturenames", ())))


def touches_database_layer(item) -> bool:
    """A test the PostgreSQL pass must run: it uses a test database, or drives the
    browser suite's server (``machi_server``), which runs on the pass's database."""
    return uses_database(item) or "machi_server" in getattr(item, "fixturenames", ())


@dataclasses.dataclass
class Summary:
    backend: str
    counts: dict[str, int] = dataclasses.field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    # Node ids of the database tests whose body ran (their setup, database included, passed).
    database_tests: list[str] = dataclasses.field(default_factory=list)
    database_skipped: str | None = None
    database_error: str | None = None
    exitstatus: int | None = None

    def record(self, category: str) -> None:
        """Count one report by the category pytest's terminal summary gives it."""
        if category in self.counts:
            self.counts[category] += 1

    def write(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(dataclasses.asdict(self), indent=1) + "\n")

    @classmethod
    def read(cls, path: str | Path) -> Summary:
        data = json.loads(Path(path).read_text())
        return cls(**{field.name: data[field.name] for field in dataclasses.fields(cls)})


def table(summaries: list[Summary]) -> str:
    lines = ["  database      passed  failed  errors  skipped  database tests run"]
    for summary in summaries:
        counts = summary.counts
        lines.append(
            f"  {NAMES.get(summary.backend, summary.backend):<12}{counts['passed']:>8}"
            f"{counts['failed']:>8}{counts['error']:>8}{counts['skipped']:>9}"
            f"{len(summary.database_tests):>20}"
        )
    return "\n".join(lines)


def compare(sqlite: Summary, postgres: Summary) -> list[str]:
    """Why the PostgreSQL run does not count as having tested what the SQLite run did."""
    if postgres.database_error:
        return [f"The PostgreSQL database did not start: {postgres.database_error}"]
    if postgres.database_skipped:
        return []  # no PostgreSQL on this machine, outside CI: reported, not failed
    if len(postgres.database_tests) >= len(sqlite.database_tests):
        return []
    missing = sorted(set(sqlite.database_tests) - set(postgres.database_tests))
    problems = [
        f"The PostgreSQL run ran {len(postgres.database_tests)} database tests, "
        f"the SQLite run {len(sqlite.database_tests)}, with the same arguments."
    ]
    problems += [f"  ran on SQLite only: {node}" for node in missing[:10]]
    if len(missing) > 10:
        problems.append(f"  … and {len(missing) - 10} more")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m machi.testing.report SQLITE.json POSTGRES.json", file=sys.stderr)
        return 2
    summaries = []
    for path, backend in zip(argv, ("sqlite", "postgres"), strict=True):
        try:
            summaries.append(Summary.read(path))
        except (OSError, ValueError, KeyError, TypeError) as error:
            print(f"No usable report from the {NAMES[backend]} run ({path}): {error}",
                  file=sys.stderr)  # fmt: skip
            return 1
    print(table(summaries))
    sqlite, postgres = summaries
    if postgres.database_skipped:
        print(f"  {postgres.database_skipped}")
    problems = compare(sqlite, postgres)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
