"""地域・年齢別人口 from the registry: ages on the reference date, past dates through the
history, households, the standard's columns, suppression, the schema."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from machi.opendata.standard import layouts
from machi.opendata.standard.population import (
    UNKNOWN,
    _cutoff,
    band_of,
    population_counts,
    population_table,
)
from machi.opendata.standard.schema import schema_validate
from machi.opendata.standard.tests.conftest import address
from machi.registry.services import Filing, resident_move_out, resident_move_within
from machi.registry.tests.conftest import person

DAY = datetime.date(2026, 12, 1)
pytestmark = pytest.mark.django_db(databases="__all__")


@given(
    birth=st.dates(datetime.date(1900, 1, 1), datetime.date(2030, 12, 31)),
    day=st.dates(datetime.date(1990, 1, 1), datetime.date(2030, 12, 31)),
)
def test_the_databases_cutoffs_give_the_legal_age_band(birth, day):
    """The grouped query compares dates of birth with cutoffs; they must agree with
    legal_age (birthday-eve rule, 29 February) for every date."""
    expected = band_of(birth, day)
    if birth > day:
        assert expected is None
        return
    band = 0
    for k in range(UNKNOWN - 1, 0, -1):
        if birth <= _cutoff(day, 5 * k):
            band = k
            break
    assert band == expected


def test_birthday_eve_and_leap_day():
    # Reaches 5 at the end of 1 December, the day before the 5th birthday.
    assert band_of(datetime.date(2021, 12, 2), DAY) == 1
    assert band_of(datetime.date(2021, 12, 3), DAY) == 0
    # Born 29 February 2000: 25 is reached at the end of 28 February 2025.
    leap = datetime.date(2000, 2, 29)
    assert band_of(leap, datetime.date(2025, 2, 27)) == 4
    assert band_of(leap, datetime.date(2025, 2, 28)) == 5
    assert band_of(datetime.date(1920, 1, 1), DAY) == UNKNOWN - 1  # 100歳以上
    assert band_of(None, DAY) == UNKNOWN


def rows_of(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_counts_by_area_sex_band_and_households(move_in):
    move_in([
        person("山田 一郎", "ヤマダ イチロウ", birth="1980-05-10"),
        person("山田 花子", "ヤマダ ハナコ", birth="1982-03-01", sex="2", relationship="妻"),
        person("山田 太郎", "ヤマダ タロウ", birth="2021-12-02", relationship="子"),
    ])  # fmt: skip
    move_in([person("佐藤 一", "サトウ ハジメ", birth="昭和30年月日不詳")], machiaza="神田一丁目")
    counts = population_counts(day=DAY)
    assert counts.people == {
        ("丸の内一丁目", "1", 9): 1,  # 46
        ("丸の内一丁目", "2", 8): 1,  # 44
        ("丸の内一丁目", "1", 1): 1,  # reached 5 on the eve of the birthday
        ("神田一丁目", "1", 14): 1,  # 1955-01-01 approximated: 71
    }
    assert counts.households == {"丸の内一丁目": 1, "神田一丁目": 1}
    table = population_table(
        lg_code="131016", prefecture="東京都", city="千代田区", day=DAY, threshold=1
    )
    assert table.header == [column for column, _ in layouts.POPULATION]
    rows = rows_of(table.content)
    whole, marunouchi = rows[0], rows[1]
    assert whole["地域名"] == "" and whole["総人口"] == "4" and whole["世帯数"] == "2"
    assert marunouchi["地域名"] == "丸の内一丁目" and marunouchi["5-9歳の男性"] == "1"
    assert marunouchi["男性"] == "2" and marunouchi["女性"] == "1"
    assert whole["調査年月日"] == "2026-12-01"
    assert schema_validate(dataset="population", content=table.content) == []


def test_unknown_year_of_birth_is_age_unknown(move_in):
    move_in([person("不詳 太郎", "フショウ タロウ", birth="年月日不詳")])
    assert population_counts(day=DAY).people == {("丸の内一丁目", "1", UNKNOWN): 1}


def test_a_past_reference_date_undoes_later_changes(move_in):
    a, b = move_in(
        [person("中村 一", "ナカムラ ハジメ"), person("中村 二", "ナカムラ ジ", relationship="子")]
    )
    move_in([person("後藤 新", "ゴトウ アラタ")], effective="2026-12-10")
    later = Filing(effective_on="2026-12-05")
    resident_move_out(residents=[b], destination="大阪府堺市堺区南瓦町3-1", filing=later)
    resident_move_within(residents=[a], address=address("神田一丁目"), filing=later)
    before = population_counts(day=DAY)
    assert before.people == {("丸の内一丁目", "1", 9): 2}
    assert before.households == {"丸の内一丁目": 1}
    after = population_counts(day=datetime.date(2026, 12, 20))
    assert after.people == {("神田一丁目", "1", 9): 1, ("丸の内一丁目", "1", 9): 1}
    assert after.households == {"神田一丁目": 1, "丸の内一丁目": 1}


def test_small_counts_are_suppressed_and_the_file_stays_valid(move_in):
    for index in range(12):
        move_in(
            [
                person(
                    f"試験 {index}",
                    "シケン",
                    birth=f"{1950 + index * 5}-01-01",
                    sex=str(1 + index % 2),
                )
            ]
        )
    move_in([person("少数 一", "ショウスウ ハジメ")], machiaza="神田一丁目")
    table = population_table(lg_code="131016", prefecture="東京都", city="千代田区", day=DAY)
    rows = rows_of(table.content)
    assert table.suppressed > 0
    for row in rows:
        for column, value in row.items():
            if column in {"総人口", "男性", "女性", "世帯数"} or column.endswith(
                ("の男性", "の女性")
            ):
                assert value == "X" or value == "0" or int(value) >= 3, (column, value)
    assert schema_validate(dataset="population", content=table.content) == []


def test_the_schema_refuses_a_broken_file():
    header = ",".join(column for column, _ in layouts.POPULATION)
    assert schema_validate(dataset="population", content=(header + "\r\n").encode())[
        0
    ].reason.startswith("UTF-8")
    bad = ("\ufeff" + header + "\r\n" + ",".join(["131016"] + ["abc"] * 54) + "\r\n").encode()
    problems = schema_validate(dataset="population", content=bad)
    assert any(p.field == "総人口" and "整数" in p.reason and p.line == 2 for p in problems)
    assert any(p.field == "調査年月日" for p in problems)
