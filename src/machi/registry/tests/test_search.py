from __future__ import annotations

import pytest

from machi.registry.selectors import SearchError, resident_search
from machi.registry.services import Filing, resident_change_name
from machi.registry.tests.conftest import person

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def people(move_in):
    residents = {}
    for name, kana, birth in [
        ("高橋 一郎", "タカハシ イチロウ", "1980-05-10"),
        ("髙橋 二郎", "タカハシ ジロウ", "昭和60年6月15日"),
        ("山崎 花子", "ヤマザキ ハナコ", "1990-01-01"),
        ("山﨑 太郎", "ヤマサキ タロウ", "1991-02-02"),
        ("渡辺 健", "ワタナベ ケン", "1970-03-03"),
        ("渡邊 健二", "ワタナベ ケンジ", "1971-03-03"),
        ("斎藤 学", "サイトウ マナブ", "1985-04-04"),
        ("齋藤 学", "サイトウ マナブ", "1986-04-04"),
        ("斉藤 学", "サイトー マナブ", "1987-04-04"),
        ("𠮷田 茂", "ヨシダ シゲル", "1960-07-07"),
        ("吉田 茂子", "ヨシダ シゲコ", "1961-07-07"),
        ("\ufa10本 次郎", "ツカモト ジロウ", "1950-08-08"),
        ("佐藤 優", "さとう ゆう", "2001-09-09"),
        ("佐東 優", "サトー ユウ", "2002-09-09"),
        ("大野 聡", "オオノ サトシ", "1999-10-10"),
        ("東條 ヂョウ", "トウジョウ ヂョウ", "1955-11-11"),
    ]:
        (resident,) = move_in([person(name, kana, birth=birth)])
        residents[name] = resident
    return residents


def names(result):
    return [hit.resident.name for hit in result.hits]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("高橋", {"高橋 一郎", "髙橋 二郎"}),
        ("髙橋", {"高橋 一郎", "髙橋 二郎"}),
        ("山崎", {"山崎 花子", "山﨑 太郎"}),
        ("渡邊", {"渡辺 健", "渡邊 健二"}),
        ("齋藤", {"斎藤 学", "齋藤 学"}),
        ("斉藤", {"斉藤 学"}),
        ("吉田", {"𠮷田 茂", "吉田 茂子"}),
        ("𠮷田", {"𠮷田 茂", "吉田 茂子"}),
        ("塚本", {"\ufa10本 次郎"}),
        ("\ufa10本", {"\ufa10本 次郎"}),
        ("高橋一郎", {"高橋 一郎"}),
        ("髙橋　一郎", {"高橋 一郎"}),
        ("一郎", {"高橋 一郎"}),
    ],
)
def test_kanji_variants(people, query, expected):
    assert set(names(resident_search(query=query))) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("サイトウ", {"斎藤 学", "齋藤 学", "斉藤 学"}),
        ("さいとう", {"斎藤 学", "齋藤 学", "斉藤 学"}),
        ("ｻｲﾄｰ", {"斎藤 学", "齋藤 学", "斉藤 学"}),
        ("サトウ", {"佐藤 優", "佐東 優"}),
        ("サトオ", {"佐藤 優", "佐東 優"}),
        ("ヤマサキ", {"山崎 花子", "山﨑 太郎"}),
        ("オーノ", {"大野 聡"}),
        ("ジョウ", {"東條 ヂョウ"}),
        ("タカハシ イチロウ", {"高橋 一郎"}),
        ("ジロウ", {"髙橋 二郎", "\ufa10本 次郎"}),
    ],
)
def test_kana_fuzzy(people, query, expected):
    assert set(names(resident_search(query=query))) == expected


def test_exact_spelling_ranks_first(people):
    result = resident_search(query="髙橋")
    assert [h.match for h in result.hits] == ["exact", "variant"]
    assert result.hits[0].resident.name == "髙橋 二郎"
    result = resident_search(query="高橋")
    assert result.hits[0].resident.name == "高橋 一郎"


def test_birth_date_in_wareki_or_seireki(people):
    for birth in ["1985-06-15", "昭和60年6月15日", "S60.6.15", "Ｓ６０．６．１５"]:
        assert names(resident_search(query="タカハシ", birth=birth)) == ["髙橋 二郎"]
    assert set(names(resident_search(birth="昭和60年"))) == {"髙橋 二郎", "斎藤 学"}
    assert set(names(resident_search(birth="1971"))) == {"渡邊 健二"}
    with pytest.raises(SearchError):
        resident_search(birth="平成32年1月1日")


def test_former_surname_and_alias(people, move_in):
    bride = people["山崎 花子"]
    resident_change_name(
        resident=bride, name="渡辺 花子", kana="ワタナベ ハナコ", reason="marriage",
        former_surname="山崎", former_surname_kana="ヤマザキ",
        filing=Filing(effective_on="2026-05-01"),
    )  # fmt: skip
    assert "渡辺 花子" in names(resident_search(query="山崎 花子"))
    assert "渡辺 花子" in names(resident_search(query="ヤマザキ ハナコ"))
    move_in(
        [person("SMITH JOHN", "スミス ジョン", resident_type="2", nationality="米国",
                alias="山田 ジョン", alias_kana="ヤマダ ジョン", name_alphabet="SMITH JOHN")]
    )  # fmt: skip
    assert names(resident_search(query="山田 ジョン")) == ["SMITH JOHN"]
    assert names(resident_search(query="smith")) == ["SMITH JOHN"]


def test_numbers_and_address(people):
    resident = people["大野 聡"]
    assert names(resident_search(number=resident.atena_number)) == ["大野 聡"]
    hh = resident.household.household_number
    assert names(resident_search(number=hh)) == ["大野 聡"]
    assert len(resident_search(postal_code="100-0001").hits) == len(people)
    assert resident_search(machiaza="千代田", banchi="1-1").total == len(people)


def test_pagination_and_prefix(people):
    page1 = resident_search(query="サイトウ", limit=2)
    page2 = resident_search(query="サイトウ", limit=2, offset=2)
    assert page1.total == page2.total == 3
    assert len(page1.hits) == 2 and len(page2.hits) == 1
    assert not {h.resident.pk for h in page1.hits} & {h.resident.pk for h in page2.hits}
    assert set(names(resident_search(query="ワタナ"))) == {"渡辺 健", "渡邊 健二"}
    assert resident_search(query="").total == 0


def test_other_municipality_never_seen(people):
    from machi.tenancy.context import tenant_context

    with tenant_context("271403"):
        assert resident_search(query="高橋").total == 0


def test_search_query_count(people, django_assert_max_num_queries):
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connections["tenant_131016"]) as queries:
        result = resident_search(query="サイトウ")
    assert result.total == 3
    # two counts, exact ids, fuzzy ids, one fetch of the page: never one per hit
    assert len(queries) <= 5, [q["sql"] for q in queries]


def test_counting_stops_at_the_cap(people, monkeypatch):
    from machi.registry import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 1)  # each group (exact, fuzzy) counts to 1
    result = resident_search(query="サイトウ", limit=2)
    assert result.more and result.total == 2 and result.total_label == "2+"
    assert len(result.hits) == 2
    exact = resident_search(query="大野 聡")
    assert not exact.more and exact.total_label == "1"
