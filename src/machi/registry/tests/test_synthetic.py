"""The synthetic resident generator (pure Python: no database)."""

from __future__ import annotations

import collections
import datetime
import random
import re
import subprocess
import sys
from itertools import groupby

import pytest

from machi.japanese import (
    is_valid_my_number,
    kanji_key,
    my_number_check_digit,
    parse_date,
    postal_lookup,
)
from machi.registry.relationships import relationship_problem
from machi.registry.synthetic import (
    COLUMNS,
    REFERENCE_DATE,
    VARIANTS,
    format_date,
    generate_rows,
    municipality_addresses,
    my_number_with_check_digit,
)

REQUIRED = (
    "宛名番号", "世帯番号", "住民種別", "住民状態", "氏名", "性別", "生年月日", "続柄",
    "住所_都道府県", "住所_市区町村", "住所_町字",
)  # fmt: skip
ADDRESS = ("郵便番号", "住所_都道府県", "住所_市区町村", "住所_町字", "住所_番地", "住所_方書")
VARIANT_CHARS = {v for options in VARIANTS.values() for v, _ in options}
SP = "\u3000"


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return list(generate_rows(count=5000, lg_code="131016", seed=0))


@pytest.fixture(scope="module")
def many() -> list[dict[str, str]]:
    return list(generate_rows(count=30000, lg_code="271403", seed=1))


def households(rows):
    return [list(g) for _, g in groupby(rows, key=lambda r: r["世帯番号"])]


def birth(row) -> datetime.date | None:
    return parse_date(row["生年月日"]).approx


def share(rows, predicate) -> float:
    return sum(1 for r in rows if predicate(r)) / len(rows)


def test_deterministic_for_a_seed():
    first = list(generate_rows(count=800, lg_code="131016", seed=7))
    assert first == list(generate_rows(count=800, lg_code="131016", seed=7))
    assert first != list(generate_rows(count=800, lg_code="131016", seed=8))
    other = list(generate_rows(count=800, lg_code="271403", seed=7))
    assert [r["氏名"] for r in first] != [r["氏名"] for r in other]


def test_count_is_exact():
    assert list(generate_rows(count=0, lg_code="131016")) == []
    for count in (1, 2, 3, 17, 1001):
        assert len(list(generate_rows(count=count, lg_code="131016", seed=count))) == count
    with pytest.raises(ValueError):
        generate_rows(count=-1, lg_code="131016")


def test_every_row_has_every_column_as_a_string(rows):
    for row in rows:
        assert tuple(row) == COLUMNS
        assert all(isinstance(v, str) for v in row.values())
        assert all(row[c] for c in REQUIRED), row
        assert row["住民種別"] in {"1", "2"}
        assert row["住民状態"] in {"1", "2", "3", "9"}
        assert row["性別"] in {"1", "2"}


def test_numbers_unique_numeric_and_my_numbers_valid(many):
    atena = [r["宛名番号"] for r in many]
    assert len(set(atena)) == len(atena)
    assert all(re.fullmatch(r"[0-9]{10}", a) for a in atena)
    assert all(re.fullmatch(r"[0-9]{10}", r["世帯番号"]) for r in many)
    numbers = [r["個人番号"] for r in many if r["個人番号"]]
    assert all(is_valid_my_number(n) for n in numbers)
    assert len(set(numbers)) == len(numbers)
    assert 0.85 < len(numbers) / len(many) < 0.99  # most residents, not all


def test_fast_check_digit_agrees_with_machi_japanese():
    rng = random.Random(0)
    for _ in range(20000):
        base = f"{rng.randrange(10**11):011d}"
        assert my_number_with_check_digit(base) == base + my_number_check_digit(base)


def test_relationships_valid_and_one_householder_per_household(many):
    assert all(relationship_problem(r["続柄"]) is None for r in many)
    for members in households(many):
        heads = [m for m in members if m["続柄"] == "世帯主"]
        assert len(heads) == 1 and members[0] is heads[0]
        # the rule: a household with any living resident has exactly one resident 世帯主
        if any(m["住民状態"] == "1" for m in members):
            assert heads[0]["住民状態"] == "1"


def test_households_are_contiguous_and_share_the_address(many):
    numbers = [r["世帯番号"] for r in many]
    runs = [k for k, _ in groupby(numbers)]
    assert len(runs) == len(set(runs))
    for members in households(many):
        assert len({tuple(m[c] for c in ADDRESS) for m in members}) == 1


def test_japanese_households_share_the_surname(many):
    for members in households(many):
        if members[0]["住民種別"] != "1":
            continue
        assert len({m["氏名"].split(SP)[0] for m in members}) == 1
        assert len({m["氏名_フリガナ"].split(SP)[0] for m in members}) == 1


def test_former_surnames(many):
    with_former = [r for r in many if r["旧氏"]]
    assert 0.01 < len(with_former) / len(many) < 0.08
    for r in with_former:
        assert r["旧氏_フリガナ"]
        assert r["続柄"] in {"妻", "夫", "母", "子の妻"}
        assert r["旧氏_フリガナ"] != r["氏名_フリガナ"].split(SP)[0]


def test_dates_parse_and_are_consistent(many):
    styles = collections.Counter()
    for r in many:
        b = parse_date(r["生年月日"])
        became = parse_date(r["住民となった年月日"]).approx
        settled = parse_date(r["住所を定めた年月日"]).approx
        assert b.approx is not None
        assert b.approx <= became <= settled <= REFERENCE_DATE, r
        text = r["生年月日"]
        styles[
            "unknown" if b.unknown else "non_calendar" if b.non_calendar
            else "iso" if re.fullmatch(r"\d{4}-\d\d-\d\d", text)
            else "kanji" if text.endswith("日") else "letter"
        ] += 1  # fmt: skip
    assert set(styles) == {"unknown", "non_calendar", "iso", "kanji", "letter"}
    assert styles["unknown"] + styles["non_calendar"] < len(many) * 0.01


def test_format_date_matches_the_parser():
    for day in range(datetime.date(1912, 7, 30).toordinal(), REFERENCE_DATE.toordinal(), 97):
        expected = datetime.date.fromordinal(day)
        for style in range(4):
            assert parse_date(format_date(day, style)).approx == expected
    assert format_date(datetime.date(1989, 1, 8).toordinal(), 0) == "平成元年1月8日"
    assert format_date(datetime.date(1970, 3, 12).toordinal(), 2) == "S45.3.12"


def test_children_fit_their_parents(many):
    for members in households(many):
        by_rel = collections.defaultdict(list)
        for m in members:
            by_rel[m["続柄"]].append(birth(m))
        head = members[0]
        mother = by_rel["妻"][0] if by_rel["妻"] else birth(head) if head["性別"] == "2" else None
        for child in by_rel["子"]:
            if mother is not None:
                assert (child - mother).days > 15 * 365, members
        for parent in by_rel["父"] + by_rel["母"]:
            assert (birth(head) - parent).days > 15 * 365, members
        for grandchild in by_rel["子の子"]:
            assert all((grandchild - p).days > 15 * 365 for p in by_rel["子の妻"]), members


def test_age_pyramid_is_japan_like(many):
    def age(r):
        return (REFERENCE_DATE - birth(r)).days // 365

    children = share(many, lambda r: age(r) < 15)
    elderly = share(many, lambda r: age(r) >= 65)
    middle = share(many, lambda r: 45 <= age(r) < 75)
    assert 0.08 < children < 0.18
    assert 0.22 < elderly < 0.36
    assert middle > 2 * children
    by_decade = collections.Counter(min(age(r) // 10, 9) for r in many)
    assert by_decade.most_common(1)[0][0] in {4, 5, 6, 7}
    assert by_decade[9] < by_decade[7]


def test_proportions(rows, many):
    status = collections.Counter(r["住民状態"] for r in many)
    n = len(many)
    assert 0.015 < status["2"] / n < 0.05
    assert 0.01 < status["3"] / n < 0.035
    assert status["9"] / n < 0.005
    assert status["1"] / n > 0.9
    assert 0.015 < share(many, lambda r: r["住民種別"] == "2") < 0.04
    sizes = collections.Counter(len(h) for h in households(many))
    assert {1, 2, 3, 4, 5} <= set(sizes)
    assert 1.9 < n / sum(sizes.values()) < 2.6
    assert any(c in r["氏名"] for r in rows for c in "髙﨑邊𠮷")


def test_variant_kanji_keep_the_kana(many):
    kana_of: dict[str, set[str]] = collections.defaultdict(set)
    variant_rows = []
    for r in many:
        if r["住民種別"] != "1":
            continue
        surname, surname_kana = r["氏名"].split(SP)[0], r["氏名_フリガナ"].split(SP)[0]
        if VARIANT_CHARS.intersection(surname):
            variant_rows.append((surname, surname_kana))
        else:
            kana_of[surname].add(surname_kana)
    assert 0.005 < len(variant_rows) / len(many) < 0.05  # a few %, not many
    for surname, kana in variant_rows:
        standard = kanji_key(surname)
        assert standard != surname
        assert kana in kana_of[standard]


def test_foreign_residents(many):
    foreign = [r for r in many if r["住民種別"] == "2"]
    nationalities = collections.Counter(r["国籍"] for r in foreign)
    assert len(nationalities) >= 5 and "" not in nationalities
    for r in foreign:
        assert re.fullmatch(r"[A-Z]+( [A-Z]+)*", r["氏名_英字"]), r
        assert r["氏名_フリガナ"]
        assert not r["旧氏"]
    assert any(r["通称"] for r in foreign)
    assert any(re.fullmatch(r"[ァ-ヴー\u3000]+", r["氏名"]) for r in foreign)
    japanese = [r for r in many if r["住民種別"] == "1"]
    assert not any(r["国籍"] or r["氏名_英字"] or r["通称"] for r in japanese)


def test_addresses_are_real(many):
    seen = {}
    for r in many:
        code = r["郵便番号"]
        if code not in seen:
            seen[code] = postal_lookup(code)
        found = seen[code]
        assert found is not None
        assert r["住所_町字"] in {found.town, *(a.town for a in found.alternates)}
        assert (r["住所_都道府県"], r["住所_市区町村"]) == (found.prefecture, found.city)
    assert len(seen) > 100
    assert {r["住所_市区町村"] for r in many} == {
        "堺市堺区", "堺市中区", "堺市東区", "堺市西区", "堺市南区", "堺市北区", "堺市美原区",
    }  # fmt: skip
    assert share(many, lambda r: bool(r["住所_方書"])) > 0.1
    assert all(re.fullmatch(r"[0-9]+(-[0-9]+){0,2}|[0-9]+番地[0-9]*", r["住所_番地"]) for r in many)


def test_addresses_of_the_municipality():
    chiyoda = municipality_addresses("131016")
    assert {(a.prefecture, a.city) for a in chiyoda} == {("東京都", "千代田区")}
    assert any(a.town == "千代田" and a.postal_code == "1000001" for a in chiyoda)
    assert not any(a.town.endswith("ビル") for a in chiyoda)  # no single-building codes
    assert {a.city for a in municipality_addresses("011002")} >= {"札幌市中央区", "札幌市北区"}


@pytest.mark.parametrize("code", ["130001", "999990", "12", "abcdef"])
def test_unknown_municipality_is_a_clear_error(code):
    with pytest.raises(ValueError, match="地方公共団体コード"):
        list(generate_rows(count=1, lg_code=code))


def test_no_django_import():
    code = (
        "import sys, machi.registry.synthetic as s;"
        "list(s.generate_rows(count=5, lg_code='131016'));"
        "bad = sorted(m for m in sys.modules if m.startswith('django'));"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
