# ruff: noqa: S608 - every query is built from constants in this module; values are bound parameters
"""The five standard access-log analyses (不正アクセスの検知), read-only over DuckDB.

Each analysis is one query over the municipality's hash-chained audit log
(``audit_auditentry``) through the read-only DuckDB cursor of
:mod:`machi.analytics.duck`, with the municipality's parameters (:class:`Params`), for
a range of local (JST) dates. The log is scanned once a run (:func:`load`: the
entries of the range into a temporary table of the cursor's session); the analyses
then query that. It returns :class:`Hit` rows, one per user (or terminal)
and day, with the counts that raised it and the ``seq`` numbers of the audit entries
behind it (at most :data:`EVIDENCE_LIMIT`). Nothing is written anywhere.

1. ``off_hours`` — any staff entry before ``work_start``, at or after ``work_end``, or
   on a day the office is closed (weekends, national holidays by ``jpholiday`` with
   振替休日 and 国民の休日, 29 Dec – 3 Jan, the municipality's own closed days:
   :func:`machi.japanese.business_time.is_closed_day`).
2. ``mass_access`` — one user reading ``mass_residents`` or more distinct residents
   within ``mass_minutes`` (a sliding window), or ``mass_daily`` in one day.
3. ``no_reason`` — a resident read with no counter task (person or filer), visit
   (its residents or notifier) or contact-center ticket for that resident live within
   ``reason_window_hours`` of the read; flagged from ``no_reason_min`` residents a day.
4. ``account`` — entries by an account that is disabled (``is_active`` false in the
   control database: the caller passes their ids), one account used from two or more
   terminals (IP addresses) within ``shared_minutes`` (a shared ID), and one terminal
   used by ``shared_terminal_users`` or more accounts within ``shared_minutes``.
5. ``failed_login`` — ``failed_logins`` or more failed logins (``login.failed``,
   ``login.locked_out``) a day by one account or against accounts from one terminal,
   any lockout, or ``mfa_failures`` or more failed second factors (``login.mfa_failed``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from machi.analytics.duck import ATTACHED
from machi.analytics.selectors import _engine, _native_literal, rows_of
from machi.japanese.business_time import ClosedDays

JST = dt.timezone(dt.timedelta(hours=9))
EVIDENCE_LIMIT = 50
ANALYSES = ("off_hours", "mass_access", "no_reason", "account", "failed_login")

# Audit actions that read one resident's record (object_type "resident", object_id the
# 宛名番号).
RESIDENT_READS = ("resident.viewed", "resident.my_number_revealed")
FAILED_LOGIN_ACTIONS = ("login.failed", "login.locked_out")
MFA_FAILED = "login.mfa_failed"
LOCKED_OUT = "login.locked_out"
# Not counted as work outside the hours: a sign-out, and failed sign-ins (someone else's
# attempts on the account; analysis 5 counts them).
NOT_WORK = ("logout", *FAILED_LOGIN_ACTIONS)


@dataclass(frozen=True)
class Params:
    """A municipality's parameters (the defaults are those of :class:`AccessLogSettings`)."""

    work_start: dt.time = dt.time(7, 30)
    work_end: dt.time = dt.time(20, 0)
    extra_closed_days: frozenset[dt.date] = frozenset()
    mass_residents: int = 30
    mass_minutes: int = 10
    mass_daily: int = 300
    reason_window_hours: int = 24
    no_reason_min: int = 1
    shared_minutes: int = 10
    shared_terminal_users: int = 3
    failed_logins: int = 5
    mfa_failures: int = 3
    history_days: int = 28

    @classmethod
    def of(cls, settings: Any | None) -> Params:
        if settings is None:
            return cls()
        names = [f for f in cls.__dataclass_fields__ if f != "extra_closed_days"]
        values = {name: getattr(settings, name) for name in names}
        extra = frozenset(dt.date.fromisoformat(str(d)) for d in (settings.extra_closed_days or []))
        return cls(**values, extra_closed_days=extra)

    def closed_days(self, date_from: dt.date, date_to: dt.date) -> list[dt.date]:
        closed = ClosedDays(extra=self.extra_closed_days)
        days = []
        day = date_from
        while day <= date_to:
            if closed(day):
                days.append(day)
            day += dt.timedelta(days=1)
        return days


@dataclass
class Hit:
    analysis: str
    day: dt.date
    actor_id: int | None
    actor_username: str
    count: int
    reasons: dict[str, Any]
    evidence: list[int] = field(default_factory=list)
    subject: str = ""

    @property
    def key(self) -> tuple:
        return (self.analysis, self.day, self.actor_id, self.subject)


def utc_bounds(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Naive UTC bounds of the JST dates ``date_from`` … ``date_to`` (both included)."""
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=JST)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=JST)
    return (
        start.astimezone(dt.UTC).replace(tzinfo=None),
        end.astimezone(dt.UTC).replace(tzinfo=None),
    )


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


# The entries of the run, read from the municipality's log in one scan by :func:`load`
# (local JST time, only the columns the analyses use) into a temporary table of the
# DuckDB cursor's own session: held in the process's memory for the run, never written
# anywhere, dropped by :func:`unload`.
LOADED = "accesslog_entries"
ENTRIES = f"""
e AS (SELECT * FROM {LOADED} WHERE t >= ? AND t < ?)"""


# The columns the analyses read.
COLUMNS = (
    "seq", "created_at", "actor_id", "actor_username", "action", "object_type", "object_id",
    "ip_address",
)  # fmt: skip


def native_where(engine: str, date_from: dt.date, date_to: dt.date) -> str:
    """The range of the dates (JST, both included) in the database's own SQL, on the
    indexed ``created_at`` itself (no function around it), so the database reads only
    the range through its index."""
    lo, hi = (_native_literal(engine, moment) for moment in utc_bounds(date_from, date_to))
    return f"created_at >= {lo} AND created_at < {hi}"


# From this share of the SQLite log on, a run reads the table straight through: a walk
# of the index over most of the rows costs more than the plain (parallel) read.
STRAIGHT_SHARE = 0.25


def _most_of_the_log(cur: Any, date_from: dt.date, date_to: dt.date) -> bool:
    """Whether the dates hold :data:`STRAIGHT_SHARE` or more of the SQLite log, estimated
    from the ids of the first and last entries of the range against the whole log's
    (four lookups in the indexes; the ids grow with time). An estimate only chooses how
    to read: both ways read every entry of the range."""
    lo, hi = (_native_literal("sqlite", moment) for moment in utc_bounds(date_from, date_to))
    table = "audit_auditentry"
    query = (
        f"SELECT (SELECT min(id) FROM {table}), (SELECT max(id) FROM {table}),"
        f" (SELECT id FROM {table} WHERE created_at >= {lo} ORDER BY created_at LIMIT 1),"
        f" (SELECT id FROM {table} WHERE created_at < {hi} ORDER BY created_at DESC LIMIT 1)"
    )
    first, last, start, end = cur.execute(
        "SELECT CAST(a AS BIGINT), CAST(b AS BIGINT), CAST(c AS BIGINT), CAST(d AS BIGINT)"
        f" FROM sqlite_query('{ATTACHED}', '{query.replace(chr(39), chr(39) * 2)}') t(a, b, c, d)"
    ).fetchone()
    if None in (first, last, start, end):
        return False
    return (end - start) >= STRAIGHT_SHARE * max(last - first, 1)


def load(cur: Any, date_from: dt.date, date_to: dt.date) -> None:
    """Read the entries of the dates (JST, both included) in one pass over the log:
    every analysis then works on them (the log is read once, however many queries).

    DuckDB's SQLite scanner pushes no filter down (a one-day run would read the whole
    log), so the database narrows the rows itself through its index on ``created_at``
    (``sqlite_query``/``postgres_query``, read-only like the attach: see
    :func:`machi.analytics.selectors.rows_of`), handing DuckDB only the columns the
    analyses use. A range holding most of the SQLite log is read straight through (an
    index walk over most of the rows would only be slower)."""
    engine = _engine(cur)
    if engine == "sqlite" and _most_of_the_log(cur, date_from, date_to):
        source = "audit_auditentry"
    else:
        source = rows_of(
            cur, engine, "audit_auditentry", list(COLUMNS), native_where(engine, date_from, date_to)
        )
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {LOADED} AS
        SELECT CAST(seq AS BIGINT) AS seq,
               CAST(created_at AS TIMESTAMP) + INTERVAL 9 HOUR AS t,
               CAST(actor_id AS BIGINT) AS actor_id,
               CAST(actor_username AS VARCHAR) AS actor_username,
               CAST(action AS VARCHAR) AS action, CAST(object_type AS VARCHAR) AS object_type,
               CAST(object_id AS VARCHAR) AS object_id, CAST(ip_address AS VARCHAR) AS ip_address
        FROM {source}
        WHERE CAST(created_at AS TIMESTAMP) >= ? AND CAST(created_at AS TIMESTAMP) < ?
        """,
        list(utc_bounds(date_from, date_to)),
    )


def unload(cur: Any) -> None:
    cur.execute(f"DROP TABLE IF EXISTS temp.{LOADED}")


def local_bounds(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Naive JST bounds of the dates (both included), for ``ENTRIES``."""
    return (
        dt.datetime.combine(date_from, dt.time.min),
        dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min),
    )


READS = f"""
r AS (
    SELECT * FROM e
    WHERE actor_id IS NOT NULL AND object_type = 'resident' AND object_id <> ''
      AND action IN {_in(RESIDENT_READS)}
)"""


def _evidence(rows: Any) -> list[int]:
    return [int(s) for s in (rows or [])][:EVIDENCE_LIMIT]


def off_hours(cur: Any, date_from: dt.date, date_to: dt.date, params: Params) -> list[Hit]:
    closed = params.closed_days(date_from, date_to)
    sql = f"""
    WITH {ENTRIES}
    SELECT actor_id, any_value(actor_username), CAST(t AS DATE) AS d, count(*),
           count(*) FILTER (WHERE object_type = 'resident' AND action IN {_in(RESIDENT_READS)}),
           bool_or(list_contains(?, CAST(t AS DATE))), min(t), max(t),
           list(seq ORDER BY seq)[1:{EVIDENCE_LIMIT}]
    FROM e
    WHERE actor_id IS NOT NULL AND action NOT IN {_in(NOT_WORK)}
      AND (list_contains(?, CAST(t AS DATE)) OR CAST(t AS TIME) < ? OR CAST(t AS TIME) >= ?)
    GROUP BY actor_id, d ORDER BY d, actor_id
    """
    rows = cur.execute(
        sql, [*local_bounds(date_from, date_to), closed, closed, params.work_start, params.work_end]
    ).fetchall()
    return [
        Hit(
            "off_hours",
            d,
            int(actor),
            name or "",
            int(n),
            {
                "entries": int(n),
                "resident_reads": int(reads),
                "closed_day": bool(closed_day),
                "first": first.strftime("%H:%M"),
                "last": last.strftime("%H:%M"),
                "work_start": params.work_start.strftime("%H:%M"),
                "work_end": params.work_end.strftime("%H:%M"),
            },
            _evidence(seqs),
        )
        for actor, name, d, n, reads, closed_day, first, last, seqs in rows
    ]


def mass_access(cur: Any, date_from: dt.date, date_to: dt.date, params: Params) -> list[Hit]:
    at_least = min(params.mass_residents, params.mass_daily)
    window, window_params = _window("r", "object_id", "actor_id", params.mass_minutes, at_least)
    sql = f"""
    WITH {ENTRIES}, {READS}, {window}
    SELECT actor_id, any_value(actor_username), CAST(t AS DATE) AS d, max(k),
           count(DISTINCT object_id), arg_max(t, k),
           list(seq ORDER BY seq) FILTER (WHERE k >= ?)
    FROM w GROUP BY actor_id, d
    HAVING max(k) >= ? OR count(DISTINCT object_id) >= ?
    ORDER BY d, actor_id
    """
    rows = cur.execute(
        sql,
        [
            *local_bounds(date_from, date_to), *window_params, params.mass_residents,
            params.mass_residents, params.mass_daily,
        ],
    ).fetchall()  # fmt: skip
    return [
        Hit(
            "mass_access",
            d,
            int(actor),
            name or "",
            int(residents),
            {
                "peak_residents": int(peak),
                "peak_at": peak_at.strftime("%H:%M"),
                "residents": int(residents),
                "minutes": params.mass_minutes,
                "threshold": params.mass_residents,
                "daily_threshold": params.mass_daily,
            },
            _evidence(seqs),
        )
        for actor, name, d, peak, residents, peak_at, seqs in rows
    ]


def _reasons_sql(cur: Any, date_from: dt.date, date_to: dt.date, hours: int) -> str:
    """(atena, from, to): when a counter task, visit or contact ticket makes reading the
    resident's record part of someone's work (local time, widened by the window).

    The database hands over only the tasks, visits and tickets that can be live within
    the window of the dates (begun before their end, not ended before their start,
    widened by the window): a superset, DuckDB applies the exact spans. (SQLite: the
    ``+`` keeps it off an index, a walk over most of the rows; it filters as it reads.
    A run over most of the SQLite log reads the tables straight through.)"""
    far = "TIMESTAMP '9999-12-31 00:00:00'"
    engine = _engine(cur)
    lo, hi = utc_bounds(date_from, date_to)
    since = _native_literal(engine, lo - dt.timedelta(hours=hours))
    until = _native_literal(engine, hi + dt.timedelta(hours=hours))
    plus = "+" if engine == "sqlite" else ""

    whole = engine == "sqlite" and _most_of_the_log(cur, date_from, date_to)

    def live(table: str, start: str, end: str, columns: list[str]) -> str:
        if whole:  # a run over most of the log needs most rows: read straight through
            return table
        where = f"{plus}{start} < {until} AND ({end} IS NULL OR {end} >= {since})"
        return rows_of(cur, engine, table, [*columns, start, end], where)

    tasks = live("counter_task", "created_at", "completed_at", ["person_atena", "filer_atena"])
    visits = live("counter_visit", "opened_at", "closed_at", ["atena_numbers", "notifier_atena"])
    tickets = live("contact_ticket", "created_at", "closed_at", ["atena_number"])

    def span(start: str, end: str) -> str:
        return (
            f"CAST({start} AS TIMESTAMP) + INTERVAL 9 HOUR - to_hours(CAST(? AS BIGINT)) AS a, "
            f"coalesce(CAST({end} AS TIMESTAMP) + INTERVAL 9 HOUR, {far}) "
            f"+ to_hours(CAST(? AS BIGINT)) AS b"
        )

    task = span("created_at", "completed_at")
    visit = span("opened_at", "closed_at")
    ticket = span("created_at", "closed_at")
    return f"""
    reason AS (
        SELECT CAST(person_atena AS VARCHAR) AS atena, {task} FROM {tasks}
        WHERE person_atena <> ''
        UNION ALL
        SELECT CAST(filer_atena AS VARCHAR) AS atena, {task} FROM {tasks} WHERE filer_atena <> ''
        UNION ALL
        SELECT unnest(regexp_extract_all(CAST(atena_numbers AS VARCHAR), '"([^"]+)"', 1))
               AS atena, {visit} FROM {visits}
        UNION ALL
        SELECT CAST(notifier_atena AS VARCHAR) AS atena, {visit} FROM {visits}
        WHERE notifier_atena <> ''
        UNION ALL
        SELECT CAST(atena_number AS VARCHAR) AS atena, {ticket} FROM {tickets}
        WHERE atena_number <> ''
    )"""


def no_reason(cur: Any, date_from: dt.date, date_to: dt.date, params: Params) -> list[Hit]:
    hours = params.reason_window_hours
    sql = f"""
    WITH {ENTRIES}, {READS}, {_reasons_sql(cur, date_from, date_to, hours)},
    bare AS (
        SELECT r.* FROM r
        WHERE NOT EXISTS (
            SELECT 1 FROM reason
            WHERE reason.atena = r.object_id AND r.t BETWEEN reason.a AND reason.b
        )
    )
    SELECT actor_id, any_value(actor_username), CAST(t AS DATE) AS d,
           count(DISTINCT object_id), count(*), list(seq ORDER BY seq)[1:{EVIDENCE_LIMIT}]
    FROM bare GROUP BY actor_id, d HAVING count(DISTINCT object_id) >= ?
    ORDER BY d, actor_id
    """
    rows = cur.execute(
        sql, [*local_bounds(date_from, date_to), *([hours] * 10), params.no_reason_min]
    ).fetchall()
    return [
        Hit(
            "no_reason",
            d,
            int(actor),
            name or "",
            int(residents),
            {"residents": int(residents), "reads": int(reads), "window_hours": hours},
            _evidence(seqs),
        )
        for actor, name, d, residents, reads, seqs in rows
    ]


def _window(source: str, counted: str, per: str, minutes: int, at_least: int) -> tuple[str, list]:
    """SQL (CTEs ``ever`` … ``cand``, ``w``) and its parameters: the rows of ``source``, each with
    ``k``, the number of distinct ``counted`` per ``per`` within the ``minutes`` ending at
    it. Only the (``per``, day) with ``at_least`` distinct ``counted`` that day (or in the
    last minutes of the day before) can reach it, so only their rows are windowed: the
    costly distinct window runs on a few rows, and the result is the same."""
    varied = f"HAVING min({counted}) <> max({counted})" if at_least >= 2 else ""
    # Two different values are two distinct ones: then ``varied`` is the answer already.
    cand = (
        "SELECT * FROM varied"
        if at_least <= 2
        else f"""
        SELECT b.{per}, b.d FROM both_days b SEMI JOIN varied v ON v.{per} = b.{per} AND v.d = b.d
        GROUP BY b.{per}, b.d HAVING count(DISTINCT b.{counted}) >= ?"""
    )
    # Cheapest first: the ``per`` with two different values in the whole range at all (an
    # account on one terminal, a terminal of one account, never reach two); only their
    # rows go on to the per-day count.
    ever = (
        f"SELECT {per} FROM {source} GROUP BY {per} HAVING min({counted}) <> max({counted})"
        if at_least >= 2
        else f"SELECT DISTINCT {per} FROM {source}"
    )
    sql = f"""
    ever AS ({ever}),
    pool AS (SELECT s.* FROM {source} s SEMI JOIN ever USING ({per})),
    both_days AS (
        SELECT {per}, {counted}, CAST(t AS DATE) AS d FROM pool
        UNION ALL
        SELECT {per}, {counted}, CAST(t + to_minutes(CAST(? AS BIGINT)) AS DATE) AS d
        FROM pool WHERE CAST(t + to_minutes(CAST(? AS BIGINT)) AS DATE) <> CAST(t AS DATE)
    ),
    -- Cheap first: groups with two different values at all (most have one).
    varied AS (
        SELECT {per}, d FROM both_days GROUP BY {per}, d {varied}
    ),
    cand AS ({cand}
    ),
    w AS (
        SELECT s.*, count(DISTINCT s.{counted}) OVER (
            PARTITION BY s.{per} ORDER BY s.t
            RANGE BETWEEN to_minutes(CAST(? AS BIGINT)) PRECEDING AND CURRENT ROW) AS k
        FROM pool s
        WHERE EXISTS (
            SELECT 1 FROM cand c WHERE c.{per} = s.{per}
              AND (c.d = CAST(s.t AS DATE)
                   OR c.d = CAST(s.t + to_minutes(CAST(? AS BIGINT)) AS DATE))
        )
    )"""
    return sql, [minutes, minutes, *([at_least] if at_least > 2 else []), minutes, minutes]


# The work entries from a terminal (for the sharing analyses).
WORK = f"""
work AS (
    SELECT * FROM e WHERE actor_id IS NOT NULL AND ip_address <> ''
                      AND action NOT IN {_in(NOT_WORK)}
)"""


def account(
    cur: Any,
    date_from: dt.date,
    date_to: dt.date,
    params: Params,
    *,
    disabled_ids: list[int] | tuple[int, ...] = (),
) -> list[Hit]:
    bounds = local_bounds(date_from, date_to)
    hits: list[Hit] = []
    disabled = [int(i) for i in disabled_ids]
    if disabled:
        rows = cur.execute(
            f"""
            WITH {ENTRIES}
            SELECT actor_id, any_value(actor_username), CAST(t AS DATE) AS d, count(*),
                   list(seq ORDER BY seq)[1:{EVIDENCE_LIMIT}]
            FROM e WHERE list_contains(?, actor_id)
            GROUP BY actor_id, d ORDER BY d, actor_id
            """,
            [*bounds, disabled],
        ).fetchall()
        hits += [
            Hit(
                "account",
                d,
                int(a),
                name or "",
                int(n),
                {"kind": "disabled", "entries": int(n)},
                _evidence(seqs),
            )
            for a, name, d, n, seqs in rows
        ]
    # One account from several terminals within the window (a shared ID).
    window, window_params = _window("work", "ip_address", "actor_id", params.shared_minutes, 2)
    rows = cur.execute(
        f"""
        WITH {ENTRIES}, {WORK}, {window}
        SELECT actor_id, any_value(actor_username), CAST(t AS DATE) AS d, max(k),
               list(DISTINCT ip_address), list(seq ORDER BY seq) FILTER (WHERE k >= 2)
        FROM w GROUP BY actor_id, d HAVING max(k) >= 2 ORDER BY d, actor_id
        """,
        [*bounds, *window_params],
    ).fetchall()
    hits += [
        Hit(
            "account",
            d,
            int(a),
            name or "",
            int(k),
            {
                "kind": "shared_account",
                "terminals": int(k),
                "minutes": params.shared_minutes,
                "ip_addresses": sorted(ips),
            },
            _evidence(seqs),
        )
        for a, name, d, k, ips, seqs in rows
    ]
    # One terminal used by several accounts within the window.
    users = params.shared_terminal_users
    window, window_params = _window("work", "actor_id", "ip_address", params.shared_minutes, users)
    rows = cur.execute(
        f"""
        WITH {ENTRIES}, {WORK}, {window}
        SELECT ip_address, CAST(t AS DATE) AS d, max(k), list(DISTINCT actor_username),
               list(seq ORDER BY seq) FILTER (WHERE k >= ?)
        FROM w GROUP BY ip_address, d HAVING max(k) >= ? ORDER BY d, ip_address
        """,
        [*bounds, *window_params, users, users],
    ).fetchall()
    hits += [
        Hit(
            "account",
            d,
            None,
            "",
            int(k),
            {
                "kind": "shared_terminal",
                "accounts": int(k),
                "minutes": params.shared_minutes,
                "usernames": sorted(names),
            },
            _evidence(seqs),
            subject=ip,
        )
        for ip, d, k, names, seqs in rows
    ]
    return hits


def failed_login(cur: Any, date_from: dt.date, date_to: dt.date, params: Params) -> list[Hit]:
    bounds = local_bounds(date_from, date_to)
    failed, mfa, locked = _in(FAILED_LOGIN_ACTIONS), f"'{MFA_FAILED}'", f"'{LOCKED_OUT}'"
    rows = cur.execute(
        f"""
        WITH {ENTRIES}
        SELECT actor_id, any_value(actor_username), CAST(t AS DATE) AS d,
               count(*) FILTER (WHERE action IN {failed}),
               count(*) FILTER (WHERE action = {mfa}),
               count(*) FILTER (WHERE action = {locked}),
               list(seq ORDER BY seq)[1:{EVIDENCE_LIMIT}]
        FROM e WHERE actor_id IS NOT NULL AND (action IN {failed} OR action = {mfa})
        GROUP BY actor_id, d
        HAVING count(*) FILTER (WHERE action IN {failed}) >= ?
            OR count(*) FILTER (WHERE action = {mfa}) >= ?
            OR count(*) FILTER (WHERE action = {locked}) > 0
        ORDER BY d, actor_id
        """,
        [*bounds, params.failed_logins, params.mfa_failures],
    ).fetchall()
    hits = [
        Hit(
            "failed_login",
            d,
            int(a),
            name or "",
            int(nf + nm),
            {
                "failed_logins": int(nf),
                "mfa_failures": int(nm),
                "locked_out": int(nl),
                "threshold": params.failed_logins,
                "mfa_threshold": params.mfa_failures,
            },
            _evidence(seqs),
        )
        for a, name, d, nf, nm, nl, seqs in rows
    ]
    # Failures against several accounts from one terminal (password spraying).
    rows = cur.execute(
        f"""
        WITH {ENTRIES}
        SELECT ip_address, CAST(t AS DATE) AS d, count(*), count(DISTINCT actor_username),
               list(seq ORDER BY seq)[1:{EVIDENCE_LIMIT}]
        FROM e WHERE action IN {failed} AND ip_address <> ''
        GROUP BY ip_address, d
        HAVING count(*) >= ? AND count(DISTINCT actor_username) >= 2
        ORDER BY d, ip_address
        """,
        [*bounds, params.failed_logins],
    ).fetchall()
    hits += [
        Hit(
            "failed_login",
            d,
            None,
            "",
            int(n),
            {"failed_logins": int(n), "accounts": int(k), "threshold": params.failed_logins},
            _evidence(seqs),
            subject=ip,
        )
        for ip, d, n, k, seqs in rows
    ]
    return hits


def run_all(
    cur: Any,
    date_from: dt.date,
    date_to: dt.date,
    params: Params,
    *,
    disabled_ids: list[int] | tuple[int, ...] = (),
    loaded: bool = False,
) -> dict[str, list[Hit]]:
    """Every analysis over the dates (JST, both included): analysis → hits. Loads the
    entries first unless ``loaded`` (the caller called :func:`load` for a range that
    covers the dates)."""
    if not loaded:
        load(cur, date_from, date_to)
    try:
        return {
            "off_hours": off_hours(cur, date_from, date_to, params),
            "mass_access": mass_access(cur, date_from, date_to, params),
            "no_reason": no_reason(cur, date_from, date_to, params),
            "account": account(cur, date_from, date_to, params, disabled_ids=disabled_ids),
            "failed_login": failed_login(cur, date_from, date_to, params),
        }
    finally:
        if not loaded:
            unload(cur)
