"""The fast paths of a large migration import: the forked reader's ready-made rows and,
on SQLite, the initial import written with a rollback journal and no foreign-key checks
(both restored afterwards, and left alone when another connection holds the database)."""

from __future__ import annotations

import sqlite3

import pytest
from django.db import connections

from machi.registry.migration import ImportRejected
from machi.registry.models import Household, Resident, ResidentHistory, ResidentKey
from machi.registry.tests.test_migration import many, run, snapshot, to_csv
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

FRESH = "131059"  # 文京区: created by the test, outside the test's transactions


@pytest.fixture
def forked(monkeypatch):
    """Large-file mode at a small scale (as in test_migration): a forked reader after
    6 rows, batches of 7 rows; the list of readers started."""
    from machi.registry.migration import importer

    monkeypatch.setattr(importer, "PARALLEL_PROBE_ROWS", 3)
    monkeypatch.setattr(importer, "PARALLEL_MIN_ROWS", 6)
    monkeypatch.setattr(importer, "BATCH_ROWS", 7)
    monkeypatch.setattr(importer, "UPDATE_BATCH_ROWS", 4)
    readers = []
    real = importer._Reader

    def reader(*args):
        readers.append(real(*args))
        return readers[-1]

    monkeypatch.setattr(importer, "_Reader", reader)
    return readers


def history(lg_code: str) -> list[tuple]:
    with tenant_context(lg_code):
        return sorted(
            (
                h.resident.atena_number,
                h.change,
                h.changes["line"],
                h.filing_kind,
                h.effective_on,
                h.filed_on,
                h.staff_id,
                h.staff_username,
            )
            for h in ResidentHistory.objects.select_related("resident")
        )


def households(lg_code: str) -> list[tuple[str, list[str]]]:
    with tenant_context(lg_code):
        return sorted(
            (h.household_number, sorted(h.members.values_list("atena_number", flat=True)))
            for h in Household.objects.all()
        )


def test_the_forked_readers_rows_equal_a_serial_imports(municipality_a, municipality_b, forked):
    from machi.registry.migration import importer

    rows = many(40)
    rows[12]["氏名"] = "髙橋 𠮷子"
    rows[13]["旧氏"] = "渡邊"
    forked_result = run(to_csv(rows))
    assert len(forked) == 1
    importer.PARALLEL = False
    try:
        serial_result = run(to_csv(rows), lg_code="271403")
    finally:
        importer.PARALLEL = True
    assert len(forked) == 1
    assert forked_result.counts() == serial_result.counts()
    assert snapshot("131016") == snapshot("271403")
    assert history("131016") == history("271403")
    assert households("131016") == households("271403")
    with tenant_context("131016"):
        changes = ResidentHistory.objects.order_by("id").first().changes
        assert changes == {"import": forked_result.import_id, "line": 2}


def test_update_with_new_households_through_the_forked_reader(municipality_a, forked):
    rows = many(40)
    run(to_csv(rows[:30]))
    rows[5]["世帯番号"] = "2999999"  # an existing resident moves to a new household
    result = run(to_csv(rows), update=True)
    assert len(forked) == 2
    assert (result.created, result.updated, result.households_created) == (10, 1, 5)
    with tenant_context("131016"):
        moved = Resident.objects.get(atena_number=rows[5]["宛名番号"])
        assert moved.household.household_number == "2999999"
        assert Household.objects.count() == 15
        assert ResidentKey.objects.filter(resident=moved).count() > 0


# ---------------------------------------------------------------- SQLite: initial import


@pytest.fixture
def fresh(new_tenants, monkeypatch):
    """A municipality created by the test (its database is outside the test's
    transactions, as the command's is) and bulk mode for any file size."""
    from machi.registry.migration import importer
    from machi.tenancy.services import municipality_create

    new_tenants.append(FRESH)
    municipality_create(lg_code=FRESH, name="文京区")
    with tenant_context(FRESH) as alias:
        if connections[alias].vendor != "sqlite":
            pytest.skip("SQLite only")
    monkeypatch.setattr(importer, "BULK_MODE_MIN_BYTES", 0)
    return FRESH


def pragmas(alias: str) -> tuple[str, int]:
    connection = connections[alias]
    connection.ensure_connection()
    raw = connection.connection
    (mode,) = raw.execute("PRAGMA journal_mode").fetchone()
    (foreign_keys,) = raw.execute("PRAGMA foreign_keys").fetchone()
    return mode, foreign_keys


@pytest.fixture
def during(monkeypatch):
    """The (journal mode, foreign keys) in force while the import's rows are written."""
    from machi.registry.migration.write import BulkWriter

    seen = []
    real = BulkWriter.finish

    def finish(self):
        seen.append(pragmas(self.alias))
        return real(self)

    monkeypatch.setattr(BulkWriter, "finish", finish)
    return seen


@pytest.mark.sqlite_only
def test_initial_import_uses_a_rollback_journal_then_wal_again(
    fresh, municipality_a, forked, during
):
    rows = many(40)
    result = run(to_csv(rows), lg_code=fresh)
    assert len(forked) == 1
    assert during == [("delete", 0)]
    with tenant_context(fresh) as alias:
        assert pragmas(alias) == ("wal", 1)
    assert result.created == 40
    run(to_csv(rows))  # the same file the usual way, in the test's transaction
    assert during[-1] == ("wal", 1)
    assert snapshot(fresh) == snapshot("131016")
    assert history(fresh) == history("131016")


@pytest.mark.sqlite_only
def test_a_rejected_initial_import_leaves_nothing_and_wal_again(fresh, forked):
    rows = many(40)
    rows[30]["性別"] = "x"
    with pytest.raises(ImportRejected):
        run(to_csv(rows), lg_code=fresh)
    with tenant_context(fresh) as alias:
        assert pragmas(alias) == ("wal", 1)
        assert (Resident.objects.count(), Household.objects.count()) == (0, 0)
        assert ResidentKey.objects.count() == 0


@pytest.mark.sqlite_only
def test_an_initial_import_while_another_connection_reads_keeps_the_wal(fresh, during):
    with tenant_context(fresh) as alias:
        path = connections[alias].settings_dict["NAME"]
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM registry_resident").fetchone()
        result = run(to_csv(many(10)), lg_code=fresh)
        assert reader.execute("SELECT COUNT(*) FROM registry_resident").fetchone() == (0,)
        reader.execute("COMMIT")
    finally:
        reader.close()
    assert result.created == 10
    assert during == [("wal", 1)]
    with tenant_context(fresh):
        assert Resident.objects.count() == 10
