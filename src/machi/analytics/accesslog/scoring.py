# ruff: noqa: S608 - every query is built from constants in this module; values are bound parameters
"""An anomaly score per user-day: robust z-scores over the user's own history and peers.

For every staff member active on the day, :data:`FEATURES` are counted per day over the
day and the ``history_days`` before it (one DuckDB query). For each feature:

* ``z_own``  = (x − median of the user's own earlier active days) / scale,
* ``z_peer`` = (x − median of every user active that day) / scale,

where scale = max(1.4826 × MAD, 10 % of the median, 1), so a feature that is always
zero still scores a 1-unit rise as 1. The feature's z is ``min(z_own, z_peer)`` once the
user has at least :data:`MIN_HISTORY` earlier active days (unusual both for them and for
their colleagues: a registry clerk who reads many residents every day is not flagged),
and ``z_peer`` before that. The user-day score is the largest feature z (from 0, at
most :data:`Z_CAP`) plus, for every analysis that found something that day, its weight
(:func:`hit_weight`: 3 × (1 + log2 of how far past its threshold it went); 20 for any
use of a disabled account). The reasons list the features with z ≥ :data:`REASON_Z`
and the analyses that hit, with their weights.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from machi.analytics.accesslog.analyses import (
    ENTRIES,
    FAILED_LOGIN_ACTIONS,
    MFA_FAILED,
    NOT_WORK,
    RESIDENT_READS,
    Hit,
    Params,
    _in,
    local_bounds,
)

FEATURES = ("entries", "reads", "residents", "off_hours", "failures", "terminals")
MIN_HISTORY = 5
REASON_Z = 3.0
HIT_WEIGHT = 3.0
DISABLED_WEIGHT = 20.0
Z_CAP = 50.0


@dataclass
class UserDayScore:
    day: dt.date
    actor_id: int
    actor_username: str
    score: float
    features: dict[str, int]
    reasons: list[dict[str, Any]] = field(default_factory=list)


def features(
    cur: Any, date_from: dt.date, date_to: dt.date, params: Params
) -> dict[tuple[int, dt.date], tuple[str, dict[str, int]]]:
    """(actor_id, day) → (username, feature counts) over the dates (JST, both included);
    the entries must be loaded (:func:`analyses.load`)."""
    closed = params.closed_days(date_from, date_to)
    failures = (*FAILED_LOGIN_ACTIONS, MFA_FAILED)
    reads = f"object_type = 'resident' AND object_id <> '' AND action IN {_in(RESIDENT_READS)}"
    rows = cur.execute(
        f"""
        WITH {ENTRIES}
        SELECT actor_id, any_value(actor_username), CAST(t AS DATE) AS d, count(*),
               count(*) FILTER (WHERE {reads}),
               count(DISTINCT object_id) FILTER (WHERE {reads}),
               count(*) FILTER (WHERE action NOT IN {_in(NOT_WORK)} AND (
                   list_contains(?, CAST(t AS DATE))
                   OR CAST(t AS TIME) < ? OR CAST(t AS TIME) >= ?)),
               count(*) FILTER (WHERE action IN {_in(failures)}),
               count(DISTINCT ip_address) FILTER (WHERE ip_address <> '')
        FROM e WHERE actor_id IS NOT NULL AND action <> 'logout'
        GROUP BY actor_id, d
        """,
        [*local_bounds(date_from, date_to), closed, params.work_start, params.work_end],
    ).fetchall()
    return {
        (int(a), d): (name or "", dict(zip(FEATURES, (int(v) for v in values), strict=True)))
        for a, name, d, *values in rows
    }


def _robust(values: list[float]) -> tuple[float, float]:
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    return median, max(1.4826 * mad, 0.1 * abs(median), 1.0)


def score_day(
    day: dt.date,
    counts: dict[tuple[int, dt.date], tuple[str, dict[str, int]]],
    hits: list[Hit],
    params: Params | None = None,
) -> list[UserDayScore]:
    """The scores of every user active on ``day`` (highest first)."""
    params = params or Params()
    today = {a: v for (a, d), v in counts.items() if d == day}
    history: dict[int, list[dict[str, int]]] = defaultdict(list)
    for (a, d), (_, f) in counts.items():
        if d < day:
            history[a].append(f)
    hit_by_user: dict[int, list[Hit]] = defaultdict(list)
    for hit in hits:
        if hit.day == day and hit.actor_id is not None:
            hit_by_user[hit.actor_id].append(hit)
            if hit.actor_id not in today:  # e.g. only failed logins
                today[hit.actor_id] = (hit.actor_username, dict.fromkeys(FEATURES, 0))
    if not today:
        return []
    peers = {name: _robust([float(f[name]) for _, f in today.values()]) for name in FEATURES}
    scores = []
    for actor, (username, f) in today.items():
        own = history.get(actor, [])
        best, reasons = 0.0, []
        for name in FEATURES:
            x = float(f[name])
            peer_median, peer_scale = peers[name]
            z = (x - peer_median) / peer_scale
            own_median = None
            if len(own) >= MIN_HISTORY:
                own_median, own_scale = _robust([float(h[name]) for h in own])
                z = min(z, (x - own_median) / own_scale)
            z = max(0.0, min(z, Z_CAP))
            best = max(best, z)
            if z >= REASON_Z:
                reasons.append(
                    {"feature": name, "value": int(x), "z": round(z, 1),
                     "own_median": own_median, "peer_median": peer_median}
                )  # fmt: skip
        weights: dict[str, float] = {}
        for hit in hit_by_user.get(actor, []):
            weights[hit.analysis] = max(weights.get(hit.analysis, 0.0), hit_weight(hit, params))
        for analysis in sorted(weights):
            count = sum(h.count for h in hit_by_user[actor] if h.analysis == analysis)
            reasons.append(
                {"analysis": analysis, "count": count, "weight": round(weights[analysis], 1)}
            )
        score = round(best + sum(weights.values()), 2)
        scores.append(UserDayScore(day, actor, username, score, f, reasons))
    scores.sort(key=lambda s: (-s.score, s.actor_id))
    return scores


def _ratio(hit: Hit, params: Params) -> float:
    """How far past its threshold a hit went (1: just at it)."""
    r = hit.reasons
    if hit.analysis == "off_hours":
        return float(hit.count)
    if hit.analysis == "mass_access":
        return max(r["peak_residents"] / params.mass_residents, r["residents"] / params.mass_daily)
    if hit.analysis == "no_reason":
        return hit.count / params.no_reason_min
    if hit.analysis == "account":
        if r["kind"] == "shared_terminal":
            return r["accounts"] / params.shared_terminal_users
        return r.get("terminals", 2) / 2
    if "accounts" in r:  # failed logins from one terminal against several accounts
        return r["failed_logins"] / params.failed_logins
    return max(
        r["failed_logins"] / params.failed_logins,
        r["mfa_failures"] / params.mfa_failures,
        2.0 if r["locked_out"] else 0.0,
    )


def hit_weight(hit: Hit, params: Params) -> float:
    """What a hit adds to the user-day score: :data:`HIT_WEIGHT` × (1 + log2 of how far
    past its threshold it went), :data:`DISABLED_WEIGHT` for a disabled account's use,
    at most :data:`Z_CAP`."""
    if hit.analysis == "account" and hit.reasons.get("kind") == "disabled":
        return DISABLED_WEIGHT
    ratio = max(_ratio(hit, params), 1.0)
    return min(Z_CAP, HIT_WEIGHT * (1 + math.log2(ratio)))


def subject_score(hit: Hit, params: Params) -> float:
    """The score of a finding about a terminal (no user): the hit's weight."""
    return round(hit_weight(hit, params), 2)
