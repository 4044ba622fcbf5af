"""地域・年齢別人口 (町丁目 × 5-year bands × sex, with 世帯数) from the registry.

Who counts: residents (住民状態 1, Japanese and foreign residents alike, as 住民基本台帳
does) on the reference date. Ages are ages *reached* on that date under 年齢計算ニ関スル
法律 (DOMAIN.md §3: legal_age, the birthday-eve rule; 29 February birthdays fall on
1 March in common years). Residents whose date of birth has no year are 年齢不詳.

The registry holds today's records and the history of every change. A past reference
date is reached by undoing, newest first, every recorded change that took effect after
it (moves in and out, births, deaths, moves within, corrections): the counts are taken in
the database for today's records and corrected for the few residents such changes
touched. Migration entries are not undone: a resident migrated from a legacy system was
already a resident before the migration, so dates before it count the migrated record.

The counting runs in the database (one grouped query over the residents, one for the
households), so it scales to a million residents.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Case, CharField, Count, IntegerField, Q, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from machi.japanese import parse_date
from machi.japanese.ages import legal_age
from machi.opendata.standard import disclosure, layouts
from machi.opendata.standard.schema import csv_bytes
from machi.registry.models import Resident, ResidentHistory, Status

UNKNOWN = len(layouts.BANDS)  # the column index of 年齢不詳
SEXES = ("1", "2")  # 男, 女


def _cutoff(day: datetime.date, years: int) -> datetime.date:
    """The latest date of birth of someone who has reached ``years`` on ``day``.

    legal_age(p, d) >= N ⇔ p's N-th birthday ≤ d + 1 day ⇔ p ≤ this date (a 29 February
    birth has its birthday on 1 March in common years, which this keeps)."""
    end = day + datetime.timedelta(days=1)
    try:
        return end.replace(year=end.year - years)
    except ValueError:  # end is 29 February and that year is common
        return datetime.date(end.year - years, 2, 28)


def band_of(birth: datetime.date | None, day: datetime.date) -> int | None:
    """The band index of someone born on ``birth`` on ``day`` (None: not yet born)."""
    if birth is None:
        return UNKNOWN
    if birth > day:
        return None
    return min(legal_age(birth, day) // 5, UNKNOWN - 1)


def _band_expression(day: datetime.date) -> Case:
    whens = [When(birth_date_approx__isnull=True, then=Value(UNKNOWN))]
    for band in range(UNKNOWN - 1, 0, -1):
        whens.append(When(birth_date_approx__lte=_cutoff(day, 5 * band), then=Value(band)))
    return Case(*whens, default=Value(0), output_field=IntegerField())


@dataclass
class Counts:
    """people[(machiaza, sex, band)] and households[machiaza] on one date."""

    people: Counter
    households: Counter


def _touched(day: datetime.date):
    return (
        ResidentHistory.objects.annotate(
            effective=Cast(KeyTextTransform("approx", "effective_on"), output_field=CharField())
        )
        .filter(effective__gt=day.isoformat())
        .exclude(change="migration")
    )


def _rewound(day: datetime.date) -> dict[int, dict]:
    """The residents changed after ``day``, as they stood on ``day`` (status None: not
    yet in the registry)."""
    history = list(_touched(day).order_by("resident_id", "-id").values("resident_id", "changes"))
    if not history:
        return {}
    ids = {row["resident_id"] for row in history}
    fields = ("id", "status", "machiaza", "sex", "birth_date_approx", "household_id")
    states = {row["id"]: row for row in Resident.objects.filter(pk__in=ids).values(*fields)}
    for row in history:
        state = states[row["resident_id"]]
        for name, change in row["changes"].items():
            if not isinstance(change, list) or len(change) != 2:
                continue
            old = change[0]
            if name == "birth_date":
                state["birth_date_approx"] = parse_date(old).approx if old else None
            elif name in ("status", "machiaza", "sex", "household_id"):
                state[name] = old
    return states


def population_counts(*, day: datetime.date) -> Counts:
    """The residents and households per 町丁目, sex and band on ``day``."""
    touched_ids = _touched(day).values("resident_id")
    current = Resident.objects.filter(status=Status.RESIDENT).filter(
        Q(birth_date_approx__isnull=True) | Q(birth_date_approx__lte=day)
    )
    people: Counter = Counter()
    grouped = (
        current.annotate(band=_band_expression(day))
        .values("machiaza", "sex", "band")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in grouped:
        people[(row["machiaza"], row["sex"], row["band"])] += row["n"]
    untouched = current.exclude(pk__in=touched_ids)
    households: Counter = Counter()
    for row in (
        untouched.values("machiaza").annotate(n=Count("household_id", distinct=True)).order_by()
    ):
        households[row["machiaza"]] = row["n"]
    states = _rewound(day)
    if states:
        # Today's counts of the touched residents out, their state on the day in.
        for state in (
            Resident.objects.filter(pk__in=list(states))
            .filter(status=Status.RESIDENT)
            .values("machiaza", "sex", "birth_date_approx")
        ):
            band = band_of(state["birth_date_approx"], day)
            if band is not None:
                people[(state["machiaza"], state["sex"], band)] -= 1
        extra_pairs: set[tuple[str, int]] = set()
        for state in states.values():
            if state["status"] != Status.RESIDENT:
                continue
            band = band_of(state["birth_date_approx"], day)
            if band is None:
                continue
            people[(state["machiaza"], state["sex"], band)] += 1
            extra_pairs.add((state["machiaza"], state["household_id"]))
        known = set(
            untouched.filter(household_id__in={h for _, h in extra_pairs})
            .values_list("machiaza", "household_id")
            .distinct()
        )
        for machiaza, _household in extra_pairs - known:
            households[machiaza] += 1
    people = Counter({key: n for key, n in people.items() if n})
    return Counts(people=people, households=households)


@dataclass(frozen=True)
class PopulationTable:
    header: list[str]
    rows: list[list[str]]
    day: datetime.date
    suppressed: int
    threshold: int

    @property
    def content(self) -> bytes:
        return csv_bytes(header=self.header, rows=self.rows)


def population_table(
    *,
    lg_code: str,
    prefecture: str,
    city: str,
    day: datetime.date,
    threshold: int = disclosure.DEFAULT_THRESHOLD,
    progress: Callable[[str], None] | None = None,
) -> PopulationTable:
    """The dataset in the standard's columns, one row per 町丁目 after a first row for
    the whole municipality, with every figure under the threshold suppressed (``X``)."""
    counts = population_counts(day=day)
    if progress:
        progress("counted")
    areas = sorted({machiaza for machiaza, _, _ in counts.people} | set(counts.households))
    columns = UNKNOWN + 1
    by_sex = {
        sex: [
            [counts.people.get((area, sex, band), 0) for band in range(columns)] for area in areas
        ]
        for sex in SEXES
    }
    published = {sex: disclosure.suppress(by_sex[sex], threshold=threshold) for sex in SEXES}
    homes = disclosure.suppress([[counts.households.get(area, 0)] for area in areas], threshold)
    if progress:
        progress("suppressed")
    show = disclosure.render

    def homes_of(index: int | None) -> int | None:
        if index is None:
            # The sum over 町丁目 (a household lives at one address), as the table's
            # suppression assumed.
            return homes.total
        cell, total = homes.cells[index][0], homes.row_totals[index]
        return None if cell is None or total is None else cell

    def line(area: str, index: int | None) -> list[str]:
        male, female = published["1"], published["2"]
        if index is None:
            m_cells, f_cells = male.column_totals, female.column_totals
            m_total, f_total = male.total, female.total
        else:
            m_cells, f_cells = male.cells[index], female.cells[index]
            m_total, f_total = male.row_totals[index], female.row_totals[index]
        # The sum is published only with both parts: its column then adds nothing a
        # reader could not already solve from the two sexes' own tables.
        both = None if m_total is None or f_total is None else m_total + f_total
        bands = [show(v) for pair in zip(m_cells, f_cells, strict=True) for v in pair]
        note = "市区町村全体" if index is None else ""
        return [
            lg_code, "", prefecture, city, day.isoformat(), area,
            show(both), show(m_total), show(f_total), *bands[: 2 * UNKNOWN],
            show(m_cells[UNKNOWN]), show(f_cells[UNKNOWN]), show(homes_of(index)), note,
        ]  # fmt: skip

    rows = [line("", None)] + [line(area, index) for index, area in enumerate(areas)]
    suppressed = sum(p.suppressed_count for p in published.values()) + homes.suppressed_count
    return PopulationTable(
        header=[column for column, _ in layouts.POPULATION],
        rows=rows,
        day=day,
        suppressed=suppressed,
        threshold=threshold,
    )


def population_notes(*, table: PopulationTable) -> str:
    """The dataset's notes: the reference date and the suppression method."""
    return (
        f"住民基本台帳（machi の住民記録）による町丁目別・5歳階級別・男女別の人口と世帯数です。"
        f"基準日: {table.day.isoformat()}。年齢は基準日に達している年齢（年齢計算ニ関スル法律）、"
        f"日本人住民と外国人住民を含みます。\n\n"
        f"秘匿の方法: {table.threshold} 未満（1〜{table.threshold - 1}）の数は「X」で秘匿し"
        f"（一次秘匿）、行と列の合計から秘匿した数を逆算できないよう、秘匿した数ごとに"
        f"長方形をなす 3 つの数を追加で秘匿しています（二次秘匿）。男女それぞれの表と"
        f"世帯数の列で行い、総人口は男女の両方を公表する行だけ公表します。"
        f"この表で秘匿した数: {table.suppressed}。0 は誰も特定しないため公表しています。"
    )
