"""Each analysis finds its injected case; the false-positive rate on the clean days."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.db import connections

from machi.analytics.accesslog import analyses, scoring, synthetic
from machi.analytics.accesslog.tests import scratch
from machi.analytics.duck import duck_cursor
from machi.tenancy.context import tenant_alias

pytestmark = pytest.mark.django_db

# The false-positive rate the clean log must stay under (flagged user-days / user-days).
FP_BOUND = 0.05


def _run(log, date_from=scratch.DATE_FROM, date_to=scratch.DATE_TO, params=None):
    with duck_cursor(scratch.INJECTED) as cur:
        return analyses.run_all(
            cur, date_from, date_to, params or analyses.Params(), disabled_ids=log.disabled_ids
        )


def test_every_injected_case_is_found(log):
    hits = _run(log)
    assert len(log.scenarios) == 10
    for s in log.scenarios:
        keys = {(h.day, h.actor_id, h.subject) for h in hits[s.analysis]}
        assert (s.day, s.actor_id, s.subject) in keys, s
    found = {(h.day, h.actor_id, h.subject): h for h in hits["mass_access"]}
    mass = found[(scratch.DATE_TO, synthetic.BASE_ID + 3, "")]
    assert mass.reasons["peak_residents"] >= 45 and mass.evidence
    holiday = {h.actor_id: h for h in hits["off_hours"] if h.day == dt.date(2026, 11, 23)}
    assert holiday[synthetic.BASE_ID + 2].reasons["closed_day"] is True


def test_false_positive_rate_on_the_clean_log(log):
    """The clean days are the clean log: the same entries as a log made without the
    scenarios. Every hit there is a false positive; the rate is printed (docs/data.md)."""
    clean = scratch.make_log(inject=False)
    days = set(scratch.clean_days(log))

    def on_clean(entries):
        return [e for e in entries if e["created_at"].astimezone(synthetic.JST).date() in days]

    assert on_clean(log.entries) == on_clean(clean.entries)
    hits = _run(log)
    user_days = {ud for ud in log.user_days if ud[1] in days}
    flagged = {
        (h.actor_id or h.subject, h.day) for found in hits.values() for h in found if h.day in days
    }
    per_analysis = {
        name: len({(h.actor_id or h.subject, h.day) for h in found if h.day in days})
        for name, found in hits.items()
    }
    rate = len(flagged) / len(user_days)
    print(f"\nfalse positives: {len(flagged)} of {len(user_days)} user-days = {rate:.2%}",
          per_analysis)  # fmt: skip
    assert len(user_days) > 150
    assert rate < FP_BOUND


def test_parameters_change_what_is_found(log):
    base = analyses.Params()
    mass_user = (scratch.DATE_TO, synthetic.BASE_ID + 3)
    loose = dataclasses.replace(base, mass_residents=60)
    hits = _run(log, scratch.DATE_TO, scratch.DATE_TO, loose)
    assert mass_user not in {(h.day, h.actor_id) for h in hits["mass_access"]}
    # A day the municipality closes of its own: every clerk working that day is flagged.
    day = dt.date(2026, 11, 18)
    closed = dataclasses.replace(base, extra_closed_days=frozenset({day}))
    hits = _run(log, day, day, closed)
    working = {a for a, d in log.user_days if d == day}
    assert {h.actor_id for h in hits["off_hours"]} == working
    # Later working hours bring the 20時台 reads inside.
    late = dataclasses.replace(base, work_end=dt.time(23, 59))
    hits = _run(log, scratch.DATE_FROM, scratch.DATE_TO, late)
    assert all(h.reasons["closed_day"] for h in hits["off_hours"] if h.day != scratch.DATE_TO)
    # No disabled account: no such finding.
    with duck_cursor(scratch.INJECTED) as cur:
        analyses.load(cur, scratch.DATE_TO, scratch.DATE_TO)
        hits = analyses.account(cur, scratch.DATE_TO, scratch.DATE_TO, base)
        analyses.unload(cur)
    assert "disabled" not in {h.reasons["kind"] for h in hits}


def test_the_score_ranks_the_injected_users_on_top(log):
    day = scratch.DATE_TO
    params = analyses.Params()
    since = day - dt.timedelta(days=params.history_days)
    with duck_cursor(scratch.INJECTED) as cur:
        analyses.load(cur, since, day)
        hits = analyses.run_all(cur, day, day, params, disabled_ids=log.disabled_ids, loaded=True)
        counts = scoring.features(cur, since, day, params)
        analyses.unload(cur)
    scores = scoring.score_day(day, counts, [h for found in hits.values() for h in found], params)
    print("\n", [(s.actor_username, s.score) for s in scores])
    # The users a scenario is about; the users no scenario touched at all.
    injected = {s.actor_id for s in log.scenarios if s.day == day and s.actor_id}
    clean = [s for s in scores if s.actor_id not in log.involved]
    assert len(injected) == 7 and len(clean) >= 3
    assert {s.actor_id for s in scores[: len(injected)]} <= log.involved
    assert min(s.score for s in scores if s.actor_id in injected) > max(s.score for s in clean)
    mass = next(s for s in scores if s.actor_id == synthetic.BASE_ID + 3)
    assert any(r.get("feature") == "residents" and r["z"] >= 3 for r in mass.reasons)
    assert any(r.get("analysis") == "mass_access" for r in mass.reasons)


def test_a_day_is_read_through_the_index(log):
    """``load`` has the database narrow the log to the dates itself: a one-day run holds
    exactly that day's entries, and the database's plan for the narrowing query goes
    through the index on ``created_at``, not the whole table."""
    day = dt.date(2026, 11, 18)
    with duck_cursor(scratch.INJECTED) as cur:
        analyses.load(cur, day, day)
        loaded = cur.execute(f"SELECT seq FROM {analyses.LOADED} ORDER BY seq").fetchall()
        analyses.unload(cur)
        # The same day through DuckDB's own full scan of the attached table.
        expected = cur.execute(
            "SELECT seq FROM audit_auditentry"
            " WHERE CAST(CAST(created_at AS TIMESTAMP) + INTERVAL 9 HOUR AS DATE) = ? ORDER BY seq",
            [day],
        ).fetchall()
        (everything,) = cur.execute("SELECT count(*) FROM audit_auditentry").fetchone()
        connection = connections[tenant_alias(scratch.INJECTED)]
        if connection.vendor == "sqlite":  # a day goes through the index, the log straight
            assert not analyses._most_of_the_log(cur, day, day)
            assert analyses._most_of_the_log(cur, scratch.DATE_FROM, scratch.DATE_TO)
    assert loaded == expected and 0 < len(loaded) < everything
    where = analyses.native_where(connection.vendor.replace("postgresql", "postgres"), day, day)
    query = f"SELECT {', '.join(analyses.COLUMNS)} FROM audit_auditentry WHERE {where}"
    # A connection of its own (the test's guard keeps the scratch database out of its
    # transaction), like DuckDB's.
    raw = connection.get_new_connection(connection.get_connection_params())
    try:
        c = raw.cursor()
        if connection.vendor == "sqlite":
            c.execute(f"EXPLAIN QUERY PLAN {query}")
            plan = " ".join(str(row[-1]) for row in c.fetchall())
            assert "SEARCH" in plan and "INDEX audit_auditentry_created_at" in plan, plan
        else:  # a small table: the planner may prefer a scan; the index must be usable
            c.execute("SET enable_seqscan = off")
            c.execute(f"EXPLAIN {query}")
            plan = " ".join(row[0] for row in c.fetchall())
            assert "audit_auditentry_created_at" in plan and "Seq Scan" not in plan, plan
    finally:
        raw.close()
