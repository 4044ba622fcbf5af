# ruff: noqa: S608 - every query is built from constants in this module; values are bound parameters
"""The dashboards' figures, computed by DuckDB from the municipality's own database.

Every dashboard is computed in two steps:

1. ``<dashboard>_raw(cur, period)`` runs a few aggregate queries through the read-only
   DuckDB cursor (:mod:`machi.analytics.duck`) and returns **raw figures**: a dict of
   name → ``Counter`` keyed by tuples. Only aggregates leave the database: counts per
   key, and histograms (``(group…, seconds) → count``) for durations; never a row,
   an id or a name of a resident.
2. ``<dashboard>_charts(raw, period)`` applies disclosure control and builds the
   :class:`~machi.analytics.charts.Chart` objects shown on the page.

Platform operators see the same charts over the **sum** of every municipality's raw
figures (:func:`merge_raw`), so their figures are aggregated only and suppression is
applied to the totals.

Disclosure control (``machi.opendata.standard.disclosure``): counts from 1 to
``DEFAULT_THRESHOLD - 1`` are suppressed, with secondary suppression against the
totals a reader could derive (:func:`suppress_series`, :func:`suppress_matrix`);
a percentile, mean or share over fewer than ``DEFAULT_THRESHOLD`` items is not shown.

Times are shown in Japan Standard Time (UTC+9, no daylight saving): timestamps are
stored in UTC and shifted by nine hours. Percentiles are nearest-rank over the
durations in whole seconds (the p-th percentile is the smallest value with at least
p % of the items at or below it).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from machi.analytics.charts import Chart, Series
from machi.analytics.duck import duck_cursor
from machi.opendata.standard.disclosure import DEFAULT_THRESHOLD, is_sensitive, suppress

JST = dt.timezone(dt.timedelta(hours=9))
DEFAULT_DAYS = 84
MAX_DAYS = 3 * 366
WEEKDAYS = ["月", "火", "水", "木", "金", "土", "日"]

Raw = dict[str, Counter]


# --- the period ------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A range of local (JST) dates, both ends included."""

    date_from: dt.date
    date_to: dt.date

    @classmethod
    def default(cls, today: dt.date | None = None) -> Period:
        today = today or dt.datetime.now(JST).date()
        return cls(today - dt.timedelta(days=DEFAULT_DAYS - 1), today)

    @classmethod
    def of(cls, date_from: dt.date | None, date_to: dt.date | None) -> Period:
        default = cls.default()
        date_to = date_to or (
            date_from + dt.timedelta(days=DEFAULT_DAYS - 1) if date_from else default.date_to
        )
        date_from = date_from or date_to - dt.timedelta(days=DEFAULT_DAYS - 1)
        return cls(date_from, date_to)

    @property
    def start(self) -> dt.datetime:
        """The first moment, as a naive UTC timestamp (how the databases compare)."""
        moment = dt.datetime.combine(self.date_from, dt.time.min, tzinfo=JST)
        return moment.astimezone(dt.UTC).replace(tzinfo=None)

    @property
    def end(self) -> dt.datetime:
        """The moment after the last day, naive UTC (exclusive bound)."""
        moment = dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=JST)
        return moment.astimezone(dt.UTC).replace(tzinfo=None)

    @property
    def days(self) -> list[dt.date]:
        count = (self.date_to - self.date_from).days + 1
        return [self.date_from + dt.timedelta(days=n) for n in range(count)]

    @property
    def weeks(self) -> list[dt.date]:
        """The Mondays of the weeks the period touches."""
        first = self.date_from - dt.timedelta(days=self.date_from.weekday())
        out = []
        while first <= self.date_to:
            out.append(first)
            first += dt.timedelta(days=7)
        return out

    @property
    def params(self) -> list[dt.datetime]:
        return [self.start, self.end]


def ts(column: str) -> str:
    """SQL: ``column`` as a naive UTC timestamp (SQLite text and PostgreSQL timestamptz)."""
    return f"CAST({column} AS TIMESTAMP)"


def local(column: str) -> str:
    """SQL: ``column`` in JST (UTC+9) as a naive timestamp."""
    return f"({ts(column)} + INTERVAL 9 HOUR)"


def in_period(column: str) -> str:
    return f"{ts(column)} >= ? AND {ts(column)} < ?"


def seconds_between(later: str, earlier: str) -> str:
    return f"CAST(floor(epoch({ts(later)}) - epoch({ts(earlier)})) AS BIGINT)"


def _counter(rows: Iterable[tuple]) -> Counter:
    counter: Counter = Counter()
    for *key, count in rows:
        counter[tuple(key)] += int(count)
    return counter


# --- disclosure control --------------------------------------------------------------


def suppress_series(values: list[int], threshold: int = DEFAULT_THRESHOLD) -> list[int | None]:
    """A series of counts shown with (or summing to) a known total: primary and secondary
    suppression as a one-row table."""
    if not values:
        return []
    return suppress([values], threshold).cells[0]


def suppress_matrix(
    table: list[list[int]], threshold: int = DEFAULT_THRESHOLD
) -> tuple[list[list[int | None]], list[int | None], list[int | None], int | None]:
    """A table of counts with its row and column totals (both margins are charted)."""
    result = suppress(table, threshold)
    return result.cells, result.row_totals, result.column_totals, result.total


def percentile(hist: Counter, q: float) -> float | None:
    """Nearest-rank percentile ``q`` (0–100] of a ``{value: count}`` histogram."""
    n = sum(hist.values())
    if n == 0:
        return None
    rank = max(1, math.ceil(q / 100 * n))
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= rank:
            return float(value)
    return float(max(hist))


def shown_percentile(hist: Counter, q: float, scale: float) -> float | None:
    """The percentile in ``scale`` units (60: minutes), hidden for fewer than the
    threshold's items."""
    if sum(hist.values()) < DEFAULT_THRESHOLD:
        return None
    value = percentile(hist, q)
    return None if value is None else round(value / scale, 1)


def shown_share(part: int, whole: int) -> float | None:
    """``part / whole`` in percent; hidden when either count could identify someone."""
    if whole < DEFAULT_THRESHOLD or is_sensitive(part) or is_sensitive(whole - part):
        return None
    return round(100 * part / whole, 1)


def _hists(raw: Counter) -> dict[tuple, Counter]:
    """``(group…, value) → count`` into ``group → Counter(value → count)``."""
    out: dict[tuple, Counter] = {}
    for (*group, value), count in raw.items():
        out.setdefault(tuple(group), Counter())[value] += count
    return out


def merge_raw(raws: Iterable[Raw]) -> Raw:
    """The sum of several municipalities' raw figures (for the platform page)."""
    merged: Raw = {}
    for raw in raws:
        for name, counter in raw.items():
            merged.setdefault(name, Counter()).update(counter)
    return merged


# --- counter (窓口) -------------------------------------------------------------------


def counter_raw(cur, period: Period) -> Raw:
    p = period.params
    dow = "isodow({})"
    return {
        "visits_hw": _counter(
            cur.execute(
                f"SELECT hour({local('opened_at')}), {dow.format(local('opened_at'))}, count(*)"
                f" FROM counter_visit WHERE {in_period('opened_at')} GROUP BY ALL",
                p,
            ).fetchall()
        ),
        "tickets_hw": _counter(
            cur.execute(
                f"SELECT hour({local('issued_at')}), {dow.format(local('issued_at'))}, count(*)"
                f" FROM counter_ticket WHERE {in_period('issued_at')} GROUP BY ALL",
                p,
            ).fetchall()
        ),
        "wait": _counter(
            cur.execute(
                f"SELECT purpose, {seconds_between('called_at', 'issued_at')} AS s, count(*)"
                f" FROM counter_ticket WHERE called_at IS NOT NULL AND {in_period('issued_at')}"
                " GROUP BY ALL",
                p,
            ).fetchall()
        ),
        "service": _counter(
            cur.execute(
                f"SELECT coalesce(nullif(counter, ''), '-'),"
                f" {seconds_between('finished_at', 'served_at')} AS s, count(*)"
                " FROM counter_ticket WHERE served_at IS NOT NULL AND finished_at IS NOT NULL"
                f" AND status = 'done' AND {in_period('issued_at')} GROUP BY ALL",
                p,
            ).fetchall()
        ),
        "event_visits": _counter(
            cur.execute(
                "SELECT event_type, count(*) FROM counter_visit"
                f" WHERE {in_period('opened_at')} GROUP BY ALL",
                p,
            ).fetchall()
        ),
        "event_tasks": _counter(
            cur.execute(
                "SELECT v.event_type, count(*) FROM counter_task t"
                " JOIN counter_visit v ON t.visit_id = v.id"
                f" WHERE {in_period('v.opened_at')} GROUP BY ALL",
                p,
            ).fetchall()
        ),
        "visits_week": _counter(
            cur.execute(
                f"SELECT CAST(date_trunc('week', {local('opened_at')}) AS DATE), count(*)"
                f" FROM counter_visit WHERE {in_period('opened_at')} GROUP BY ALL",
                p,
            ).fetchall()
        ),
        "preapplied_week": _counter(
            cur.execute(
                f"SELECT CAST(date_trunc('week', {local('used_at')}) AS DATE), count(*)"
                f" FROM counter_preapplication WHERE used_at IS NOT NULL"
                f" AND {in_period('used_at')} GROUP BY ALL",
                p,
            ).fetchall()
        ),
    }


def _hours(*counters: Counter) -> list[int]:
    seen = {key[0] for counter in counters for key in counter}
    low = min([8, *seen])
    high = max([17, *seen])
    return list(range(low, high + 1))


def _hour_weekday_margins(
    counter: Counter, hours: list[int]
) -> tuple[list[int | None], list[int | None]]:
    table = [[counter.get((h, d), 0) for d in range(1, 8)] for h in hours]
    _cells, per_hour, per_weekday, _total = suppress_matrix(table)
    return per_hour, per_weekday


def _labelled(keys: Iterable[str], labels: dict[str, str]) -> list[tuple[str, str]]:
    return [(key, str(labels.get(key, key))) for key in sorted(keys, key=str)]


def counter_charts(raw: Raw, period: Period) -> list[Chart]:
    from machi.counter.models import TicketPurpose
    from machi.procedures.engine.catalogue import EVENT_LABELS

    hours = _hours(raw["visits_hw"], raw["tickets_hw"])
    visits_h, visits_d = _hour_weekday_margins(raw["visits_hw"], hours)
    tickets_h, tickets_d = _hour_weekday_margins(raw["tickets_hw"], hours)
    charts = [
        Chart(
            kind="bar",
            slug="hourly",
            title=_("時間帯別の来庁者数と整理券"),
            description=_("受付（来庁）と整理券の発券の件数を、時間帯（日本時間）ごとに示します。"),
            x_label=_("時間帯"),
            y_label=_("件数"),
            categories=[_("%(hour)d時台") % {"hour": h} for h in hours],
            series=[Series(_("来庁受付"), visits_h), Series(_("整理券"), tickets_h)],
            digits=0,
        ),
        Chart(
            kind="bar",
            slug="weekday",
            title=_("曜日別の来庁者数と整理券"),
            description=_("受付（来庁）と整理券の発券の件数を、曜日ごとに示します。"),
            x_label=_("曜日"),
            y_label=_("件数"),
            categories=[_(d) for d in WEEKDAYS],
            series=[Series(_("来庁受付"), visits_d), Series(_("整理券"), tickets_d)],
            digits=0,
        ),
    ]
    waits = _hists(raw["wait"])
    purposes = _labelled({g[0] for g in waits}, dict(TicketPurpose.choices))
    charts.append(
        Chart(
            kind="bar",
            slug="wait",
            title=_("用件別の待ち時間（中央値・90パーセンタイル）"),
            description=_("整理券の発券から最初の呼出までの分数です。"),
            x_label=_("用件"),
            y_label=_("分"),
            categories=[label for _key, label in purposes],
            series=[
                Series(
                    _("中央値（分）"), [shown_percentile(waits[(k,)], 50, 60) for k, _l in purposes]
                ),
                Series(
                    _("90パーセンタイル（分）"),
                    [shown_percentile(waits[(k,)], 90, 60) for k, _l in purposes],
                ),
            ],
        )
    )
    services = _hists(raw["service"])
    groups = sorted(services, key=lambda g: str(g[0]))
    charts.append(
        Chart(
            kind="bar",
            slug="service",
            title=_("窓口別の対応時間（中央値・90パーセンタイル）"),
            description=_("受付開始から終了までの分数を、職員の窓口（グループ）ごとに示します。"),
            x_label=_("窓口"),
            y_label=_("分"),
            categories=[str(g[0]) for g in groups],
            series=[
                Series(_("中央値（分）"), [shown_percentile(services[g], 50, 60) for g in groups]),
                Series(
                    _("90パーセンタイル（分）"),
                    [shown_percentile(services[g], 90, 60) for g in groups],
                ),
            ],
        )
    )
    events = _labelled(
        {k[0] for k in raw["event_visits"]} | {k[0] for k in raw["event_tasks"]}, EVENT_LABELS
    )
    charts.append(
        Chart(
            kind="bar",
            slug="events",
            title=_("ライフイベント別の来庁と手続きの件数"),
            description=_("異動の種類ごとの受付件数と、そこから担当課に回った手続きの件数です。"),
            x_label=_("ライフイベント"),
            y_label=_("件数"),
            categories=[label for _key, label in events],
            series=[
                Series(
                    _("来庁受付"),
                    suppress_series([raw["event_visits"].get((k,), 0) for k, _l in events]),
                ),
                Series(
                    _("手続き"),
                    suppress_series([raw["event_tasks"].get((k,), 0) for k, _l in events]),
                ),
            ],
            digits=0,
        )
    )
    weeks = period.weeks
    charts.append(
        Chart(
            kind="line",
            slug="preapplied",
            title=_("事前申請の利用率（週別）"),
            description=_(
                "窓口で使われた事前申請の件数を、その週の来庁受付の件数で割った割合（%）です。"
            ),
            x_label=_("週（月曜日）"),
            y_label=_("%"),
            categories=[w.isoformat() for w in weeks],
            series=[
                Series(
                    _("事前申請の利用率（%）"),
                    [
                        shown_share(
                            min(
                                raw["preapplied_week"].get((w,), 0),
                                raw["visits_week"].get((w,), 0),
                            ),
                            raw["visits_week"].get((w,), 0),
                        )
                        for w in weeks
                    ],
                )
            ],
        )
    )
    return charts


# --- departments (担当課) --------------------------------------------------------------

DEADLINE_BUCKETS = [
    ("overdue", "期限切れ"),
    ("today", "今日まで"),
    ("week", "7日以内"),
    ("month", "30日以内"),
    ("later", "31日以降"),
    ("none", "期限なし"),
]


def departments_raw(cur, period: Period, today: dt.date | None = None) -> Raw:
    p = period.params
    today = today or dt.datetime.now(JST).date()
    pending = "status IN ('open', 'taken')"
    bucket = (
        "CASE WHEN due IS NULL THEN 'none'"
        " WHEN CAST(due AS DATE) < $today THEN 'overdue'"
        " WHEN CAST(due AS DATE) = $today THEN 'today'"
        " WHEN CAST(due AS DATE) <= $today + INTERVAL 7 DAY THEN 'week'"
        " WHEN CAST(due AS DATE) <= $today + INTERVAL 30 DAY THEN 'month'"
        " ELSE 'later' END"
    )
    named = {"today": today, "start": period.start, "end": period.end}
    period_named = f"{ts('created_at')} >= $start AND {ts('created_at')} < $end"
    return {
        "open_by_deadline": _counter(
            cur.execute(
                f"SELECT {bucket}, count(*) FROM counter_task WHERE {pending}"
                f" AND {period_named} GROUP BY ALL",
                named,
            ).fetchall()
        ),
        "overdue": _counter(
            cur.execute(
                "SELECT coalesce(nullif(department_name, ''), department), count(*)"
                f" FROM counter_task WHERE {pending} AND due IS NOT NULL"
                f" AND CAST(due AS DATE) < $today AND {period_named} GROUP BY ALL",
                named,
            ).fetchall()
        ),
        "created_week": _counter(
            cur.execute(
                f"SELECT CAST(date_trunc('week', {local('created_at')}) AS DATE), count(*)"
                f" FROM counter_task WHERE {in_period('created_at')} GROUP BY ALL",
                p,
            ).fetchall()
        ),
        "completed_week": _counter(
            cur.execute(
                f"SELECT CAST(date_trunc('week', {local('completed_at')}) AS DATE), count(*)"
                " FROM counter_task WHERE status = 'done' AND completed_at IS NOT NULL"
                f" AND {in_period('completed_at')} GROUP BY ALL",
                p,
            ).fetchall()
        ),
        "lead": _counter(
            cur.execute(
                "SELECT coalesce(nullif(department_name, ''), department),"
                f" {seconds_between('completed_at', 'created_at')}, count(*)"
                " FROM counter_task WHERE status = 'done' AND completed_at IS NOT NULL"
                f" AND {in_period('completed_at')} GROUP BY ALL",
                p,
            ).fetchall()
        ),
    }


def departments_charts(raw: Raw, period: Period) -> list[Chart]:
    buckets = DEADLINE_BUCKETS
    overdue = sorted(raw["overdue"], key=lambda k: str(k[0]))
    weeks = period.weeks
    leads = _hists(raw["lead"])
    departments = sorted(leads, key=lambda g: str(g[0]))
    day = 86400
    return [
        Chart(
            kind="bar",
            slug="open",
            title=_("期限別の未完了の手続き"),
            description=_("期間中に作られ、まだ未着手または対応中の手続きを期限ごとに数えます。"),
            x_label=_("期限"),
            y_label=_("件数"),
            categories=[_(label) for _key, label in buckets],
            series=[
                Series(
                    _("未完了の手続き"),
                    suppress_series([raw["open_by_deadline"].get((k,), 0) for k, _l in buckets]),
                )
            ],
            digits=0,
        ),
        Chart(
            kind="bar",
            slug="overdue",
            title=_("担当課別の期限切れの手続き"),
            description=_("期限を過ぎてもまだ終わっていない手続きの件数です。"),
            x_label=_("担当課"),
            y_label=_("件数"),
            categories=[str(k[0]) for k in overdue],
            series=[Series(_("期限切れ"), suppress_series([raw["overdue"][k] for k in overdue]))],
            digits=0,
        ),
        Chart(
            kind="line",
            slug="throughput",
            title=_("週別の処理件数"),
            description=_("各週に作られた手続きと、完了した手続きの件数です。"),
            x_label=_("週（月曜日）"),
            y_label=_("件数"),
            categories=[w.isoformat() for w in weeks],
            series=[
                Series(
                    _("作成"),
                    suppress_series([raw["created_week"].get((w,), 0) for w in weeks]),
                ),
                Series(
                    _("完了"),
                    suppress_series([raw["completed_week"].get((w,), 0) for w in weeks]),
                ),
            ],
            digits=0,
        ),
        Chart(
            kind="bar",
            slug="lead",
            title=_("担当課別の処理日数（中央値・90パーセンタイル）"),
            description=_("手続きが作られてから完了するまでの日数です。"),
            x_label=_("担当課"),
            y_label=_("日"),
            categories=[str(g[0]) for g in departments],
            series=[
                Series(
                    _("中央値（日）"), [shown_percentile(leads[g], 50, day) for g in departments]
                ),
                Series(
                    _("90パーセンタイル（日）"),
                    [shown_percentile(leads[g], 90, day) for g in departments],
                ),
            ],
        ),
    ]


# --- linkage (連携) --------------------------------------------------------------------


def linkage_raw(cur, period: Period) -> Raw:
    p = period.params
    return {
        "events_day": _counter(
            cur.execute(
                f"SELECT CAST({local('time')} AS DATE), count(*) FROM linkage_outboxevent"
                f" WHERE {in_period('time')} GROUP BY ALL",
                p,
            ).fetchall()
        ),
        "lag": _counter(
            cur.execute(
                f"SELECT CAST({local('e.time')} AS DATE),"
                f" {seconds_between('d.delivered_at', 'e.time')}, count(*)"
                " FROM linkage_delivery d JOIN linkage_outboxevent e ON d.event_id = e.id"
                f" WHERE d.delivered_at IS NOT NULL AND {in_period('e.time')} GROUP BY ALL",
                p,
            ).fetchall()
        ),
        "failures": _failures(cur, p),
    }


def _failures(cur, p) -> Counter:
    rows = cur.execute(
        "SELECT s.name, 'dead', count(*) FILTER (WHERE d.status = 'dead') FROM linkage_delivery d"
        " JOIN linkage_subscription s ON d.subscription_id = s.id"
        f" WHERE {in_period('d.created_at')} GROUP BY ALL"
        " UNION ALL "
        "SELECT s.name, 'retried', count(*) FILTER (WHERE d.attempts > 1) FROM linkage_delivery d"
        " JOIN linkage_subscription s ON d.subscription_id = s.id"
        f" WHERE {in_period('d.created_at')} GROUP BY ALL",
        [*p, *p],
    ).fetchall()
    return _counter(rows)


def linkage_charts(raw: Raw, period: Period) -> list[Chart]:
    days = period.days
    lags = _hists(raw["lag"])
    names = sorted({k[0] for k in raw["failures"]}, key=str)
    return [
        Chart(
            kind="line",
            slug="events",
            title=_("日別の連携イベント数"),
            description=_("アウトボックスに書かれた異動などのイベントの件数です。"),
            x_label=_("日付"),
            y_label=_("件数"),
            categories=[d.isoformat() for d in days],
            series=[
                Series(
                    _("イベント"), suppress_series([raw["events_day"].get((d,), 0) for d in days])
                )
            ],
            digits=0,
        ),
        Chart(
            kind="line",
            slug="lag",
            title=_("日別の配信の遅れ（中央値・90パーセンタイル）"),
            description=_("イベントが書かれてから購読先に届くまでの秒数です。"),
            x_label=_("日付"),
            y_label=_("秒"),
            categories=[d.isoformat() for d in days],
            series=[
                Series(
                    _("中央値（秒）"),
                    [shown_percentile(lags.get((d,), Counter()), 50, 1) for d in days],
                ),
                Series(
                    _("90パーセンタイル（秒）"),
                    [shown_percentile(lags.get((d,), Counter()), 90, 1) for d in days],
                ),
            ],
        ),
        Chart(
            kind="bar",
            slug="failures",
            title=_("購読先別の配信の失敗"),
            description=_("再試行の上限に達して配信できなかった件数と、再試行があった件数です。"),
            x_label=_("購読先"),
            y_label=_("件数"),
            categories=[str(n) for n in names],
            series=[
                Series(
                    _("配信不能"),
                    suppress_series([raw["failures"].get((n, "dead"), 0) for n in names]),
                ),
                Series(
                    _("再試行あり"),
                    suppress_series([raw["failures"].get((n, "retried"), 0) for n in names]),
                ),
            ],
            digits=0,
        ),
    ]


# --- community (地域・問い合わせ) ----------------------------------------------------


def community_raw(cur, period: Period) -> Raw:
    p = period.params
    return {
        "by_category": _counter(
            cur.execute(
                "SELECT c.name, count(*) FROM requests_request r"
                " JOIN requests_category c ON r.category_id = c.id"
                f" WHERE {in_period('r.requested_at')} GROUP BY ALL",
                p,
            ).fetchall()
        ),
        "by_area": _counter(
            cur.execute(
                "SELECT coalesce(a.name, ''), count(*) FROM requests_request r"
                " LEFT JOIN requests_area a ON r.area_id = a.id"
                f" WHERE {in_period('r.requested_at')} GROUP BY ALL",
                p,
            ).fetchall()
        ),
        "fcr": _counter(
            cur.execute(
                "SELECT channel, CAST(first_contact_resolution AS INTEGER), count(*)"
                " FROM contact_ticket WHERE first_contact_resolution IS NOT NULL"
                f" AND merged_into_id IS NULL AND {in_period('resolved_at')} GROUP BY ALL",
                p,
            ).fetchall()
        ),
        "breaches": _counter(
            cur.execute(
                f"SELECT priority, 'first', count(*) FROM contact_ticket"
                f" WHERE sla_first_response_breached_at IS NOT NULL"
                f" AND {in_period('sla_first_response_breached_at')} GROUP BY ALL"
                " UNION ALL "
                f"SELECT priority, 'resolution', count(*) FROM contact_ticket"
                f" WHERE sla_resolution_breached_at IS NOT NULL"
                f" AND {in_period('sla_resolution_breached_at')} GROUP BY ALL",
                [*p, *p],
            ).fetchall()
        ),
    }


def community_charts(raw: Raw, period: Period) -> list[Chart]:
    from machi.contact.models import Channel, Priority

    categories = sorted(raw["by_category"], key=lambda k: str(k[0]))
    areas = sorted(raw["by_area"], key=lambda k: (k[0] == "", str(k[0])))
    channels = _labelled({k[0] for k in raw["fcr"]}, dict(Channel.choices))
    priorities = [(value, str(label)) for value, label in Priority.choices]
    return [
        Chart(
            kind="bar",
            slug="categories",
            title=_("分類別の地域の要望・通報"),
            description=_("期間中に受け付けた要望・通報（まちの困りごと）の件数です。"),
            x_label=_("分類"),
            y_label=_("件数"),
            categories=[str(k[0]) for k in categories],
            series=[
                Series(_("件数"), suppress_series([raw["by_category"][k] for k in categories]))
            ],
            digits=0,
        ),
        Chart(
            kind="bar",
            slug="areas",
            title=_("区域別の地域の要望・通報"),
            description=_("要望・通報を区域（町丁目など）ごとに数えます。"),
            x_label=_("区域"),
            y_label=_("件数"),
            categories=[str(k[0]) or _("区域外・不明") for k in areas],
            series=[Series(_("件数"), suppress_series([raw["by_area"][k] for k in areas]))],
            digits=0,
        ),
        Chart(
            kind="bar",
            slug="fcr",
            title=_("受付経路別の一次解決率"),
            description=_(
                "期間中に解決した問い合わせのうち、最初の対応で解決したものの割合（%）です。"
            ),
            x_label=_("受付経路"),
            y_label=_("%"),
            categories=[label for _k, label in channels],
            series=[
                Series(
                    _("一次解決率（%）"),
                    [
                        shown_share(
                            raw["fcr"].get((k, 1), 0),
                            raw["fcr"].get((k, 1), 0) + raw["fcr"].get((k, 0), 0),
                        )
                        for k, _l in channels
                    ],
                )
            ],
        ),
        Chart(
            kind="bar",
            slug="sla",
            title=_("優先度別のSLA超過"),
            description=_("初回回答と解決の目標時間を超えた問い合わせの件数です。"),
            x_label=_("優先度"),
            y_label=_("件数"),
            categories=[label for _v, label in priorities],
            series=[
                Series(
                    _("初回回答の超過"),
                    suppress_series([raw["breaches"].get((v, "first"), 0) for v, _l in priorities]),
                ),
                Series(
                    _("解決の超過"),
                    suppress_series(
                        [raw["breaches"].get((v, "resolution"), 0) for v, _l in priorities]
                    ),
                ),
            ],
            digits=0,
        ),
    ]


# --- the dashboards ------------------------------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    slug: str
    title: str
    raw: Callable[..., Raw]
    charts: Callable[[Raw, Period], list[Chart]]


DASHBOARDS: dict[str, Dashboard] = {
    d.slug: d
    for d in [
        Dashboard("counter", "窓口", counter_raw, counter_charts),
        Dashboard("departments", "担当課", departments_raw, departments_charts),
        Dashboard("linkage", "連携", linkage_raw, linkage_charts),
        Dashboard("community", "地域・問い合わせ", community_raw, community_charts),
    ]
}


def dashboard_raw(slug: str, period: Period, lg_code: str | None = None) -> Raw:
    """The raw (unsuppressed, aggregate-only) figures of one municipality."""
    with duck_cursor(lg_code) as cur:
        return DASHBOARDS[slug].raw(cur, period)


def dashboard_charts(slug: str, period: Period, lg_code: str | None = None) -> list[Chart]:
    """The charts of dashboard ``slug`` for the municipality in force (or ``lg_code``)."""
    return DASHBOARDS[slug].charts(dashboard_raw(slug, period, lg_code), period)


def platform_dashboard_charts(slug: str, period: Period, lg_codes: Iterable[str]) -> list[Chart]:
    """The charts over every listed municipality together: sums of their raw figures,
    suppressed as one table; no municipality is shown on its own."""
    merged = merge_raw(dashboard_raw(slug, period, code) for code in lg_codes)
    return DASHBOARDS[slug].charts(defaultdict(Counter, merged), period)
