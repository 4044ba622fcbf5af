"""The intake stores dates, not what was typed (issue 12, part 2 item 1).

Every usual form is accepted and stored as a date (the navigator input in ISO, the
registry in canonical 和暦); every impossible one is an error naming the field and why,
and nothing is written.
"""

from __future__ import annotations

import pytest

from machi.counter.models import Visit
from machi.counter.services.intake import IntakeError, life_event_confirm, life_event_preview
from machi.linkage.models import OutboxEvent
from machi.registry.models import Resident, ResidentHistory
from machi.registry.tests.conftest import person
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

ADDRESS = {"prefecture": "東京都", "city": "千代田区", "machiaza": "千代田", "banchi": "1-1"}


def _newcomer(pid: str, birth, relationship: str = "世帯主", **extra) -> dict:
    return {
        "id": pid, "name": "山田 太郎", "kana": "ヤマダ タロウ", "sex": "1",
        "birth_date": birth, "relationship": relationship, "insurance": "kokuho", **extra,
    }  # fmt: skip


def _move_in(date="2026-12-01", *births) -> dict:
    births = births or ("1985-06-15",)
    persons = [
        _newcomer(f"p{i}", birth, "世帯主" if i == 1 else "子") for i, birth in enumerate(births, 1)
    ]
    return {
        "event": {"type": "move_in", "date": date, "subjects": [p["id"] for p in persons]},
        "persons": persons,
        "answers": {},
        "address": dict(ADDRESS),
    }


@pytest.fixture
def clerk(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "counter_clerk"), username="dates-clerk")


def _errors(data) -> list[str]:
    with tenant_context("131016"), pytest.raises(IntakeError) as info:
        life_event_preview(data=data)
    return info.value.errors


@pytest.mark.parametrize(
    "typed",
    [
        "R8.12.1",
        "r8.12.1",
        "令和8年12月1日",
        "令8.12.1",
        "令8年12月1日",
        "Ｒ８．１２．１",
        "令和８年１２月１日",
        "R08.12.01",
        "2026-12-01",
        "２０２６－１２－０１",
        "2026/12/1",
        "20261201",
        "2026年12月1日",
    ],
)
def test_every_usual_form_of_the_event_date_is_stored_as_iso(municipality_a, typed):
    with tenant_context("131016"):
        navigator_input, _procedures = life_event_preview(data=_move_in(typed))
    assert navigator_input["event"]["date"] == "2026-12-01"


@pytest.mark.parametrize(
    ("typed", "iso"),
    [
        ("昭和63年3月2日", "1988-03-02"),
        ("S63.3.2", "1988-03-02"),
        ("昭63.3.2", "1988-03-02"),
        ("昭和６３年３月２日", "1988-03-02"),
        ("平成元年1月8日", "1989-01-08"),
        ("令和元年5月1日", "2019-05-01"),
        ("平成31年4月30日", "2019-04-30"),
        ("R1.5.1", "2019-05-01"),
        ("19880302", "1988-03-02"),
        # the registry admits these for a date of birth: the navigator uses the approximate day
        ("昭和30年月日不詳", "1955-01-01"),
        ("昭和30年5月日不詳", "1955-05-01"),
        ("昭和30年頃", "1955-01-01"),
        ("平成3年2月30日", "1991-02-28"),
    ],
)
def test_every_usual_form_of_a_birth_date_is_stored_as_iso(municipality_a, typed, iso):
    with tenant_context("131016"):
        navigator_input, _procedures = life_event_preview(data=_move_in("2026-12-01", typed))
    assert navigator_input["persons"][0]["birth_date"] == iso


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (
            "令和元年4月1日",
            "event.date: 令和元年は5月1日からです（令和元年4月1日は平成31年4月1日）: "
            "'令和元年4月1日'",
        ),
        (
            "平成31年5月1日",
            "event.date: 平成は平成31年4月30日までです（平成31年5月1日は令和元年5月1日）: "
            "'平成31年5月1日'",
        ),
        ("平成32年1月1日", "event.date: 平成32年はありません（平成は31年まで）: '平成32年1月1日'"),
        ("2026年2月30日", "event.date: 2026年2月は28日までです（2026年2月30日）"),
        ("2026-02-30", "event.date: 2026年2月は28日までです（2026-02-30）"),
        ("令和8年2月30日", "event.date: 2026年2月は28日までです（令和8年2月30日）"),
        ("令和8年13月1日", "event.date: 13月はありません: '令和8年13月1日'"),
        ("令和8年頃", "event.date: 「令和8年頃」は年月日のそろった日付で入力してください。"),
        ("令和8年6月1日頃", "event.date: 「令和8年6月1日頃」は年月日のそろった日付で入力"),
        ("年月日不詳", "event.date: 「年月日不詳」は年月日のそろった日付で入力してください。"),
        ("8.12.1", "event.date: 日付の形式が正しくありません"),
        ("", "event.date: 日付が空です"),
        (20261201, "event.date: 日付（YYYY-MM-DD）が必要です"),
    ],
)
def test_an_impossible_event_date_names_the_field_and_why(municipality_a, typed, expected):
    errors = _errors(_move_in(typed))
    assert any(e.startswith(expected) for e in errors), errors
    assert len([e for e in errors if e.startswith("event.date")]) == 1  # one check, one message


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (
            "令和元年4月1日",
            "persons[2].birth_date: 令和元年は5月1日からです（令和元年4月1日は平成31年4月1日）",
        ),
        ("平成32年1月1日", "persons[2].birth_date: 平成32年はありません（平成は31年まで）"),
        ("昭和60年13月1日", "persons[2].birth_date: 13月はありません"),
        ("年月日不詳", "persons[2].birth_date: 年が不詳の生年月日では判定できません（年月日不詳）"),
        ("someday", "persons[2].birth_date: 日付の形式が正しくありません"),
        (19850615, "persons[2].birth_date: 生年月日（YYYY-MM-DD）が必要です"),
        ("2026-12-02", "persons[2].birth_date: 出来事の日（2026-12-01）より後の日付です"),
    ],
)
def test_an_impossible_birth_date_names_the_person_and_why(municipality_a, typed, expected):
    errors = _errors(_move_in("2026-12-01", "1985-06-15", "2015-04-01", typed))
    assert any(e.startswith(expected) for e in errors), errors


def test_a_rejected_date_writes_nothing(clerk):
    with tenant_context("131016"):
        before = (Resident.objects.count(), Visit.objects.count())
        for data in (_move_in("令和元年4月1日"), _move_in("2026-12-01", "令和元年4月1日")):
            with pytest.raises(IntakeError):
                life_event_confirm(data=data, actor=clerk)
        assert (Resident.objects.count(), Visit.objects.count()) == before


def test_the_visit_keeps_dates_and_the_registry_the_canonical_form(clerk):
    data = _move_in("R8.4.3", "S60.6.15", "ｈ２７．５．１")
    with tenant_context("131016"):
        result = life_event_confirm(data=data, actor=clerk)
        visit = Visit.objects.get(pk=result.visit.pk)
        residents = {
            pid: Resident.objects.get(atena_number=number)
            for pid, number in result.atena_numbers.items()
        }
        history = ResidentHistory.objects.filter(resident=residents["p1"]).get()
        event = OutboxEvent.objects.filter(
            type="jp.machi.resident.moved_in", subject=residents["p1"].atena_number
        ).get()
    assert visit.navigator_input["event"]["date"] == "2026-04-03"
    assert [p["birth_date"] for p in visit.navigator_input["persons"]] == [
        "1985-06-15",
        "2015-05-01",
    ]
    assert visit.event_date.isoformat() == "2026-04-03"
    # The registry keeps the date as the office writes it, not the keystrokes.
    assert residents["p1"].birth_date.text == "昭和60年6月15日"
    assert residents["p2"].birth_date.text == "平成27年5月1日"
    assert residents["p1"].birth_date_approx.isoformat() == "1985-06-15"
    assert history.effective_on.text == "令和8年4月3日"
    # department systems get the date, not a text (docs/integration.md)
    assert event.data["effective_date"] == event.data["effective_date_approx"] == "2026-04-03"


def test_a_newcomer_born_on_an_unknown_day_keeps_it_in_the_registry(clerk):
    with tenant_context("131016"):
        result = life_event_confirm(data=_move_in("2026-04-03", "1955年5月日不詳"), actor=clerk)
        resident = Resident.objects.get(atena_number=result.atena_numbers["p1"])
        visit = Visit.objects.get(pk=result.visit.pk)
    assert resident.birth_date.text == "昭和30年5月日不詳"
    assert resident.birth_date.unknown and resident.birth_date.day is None
    assert visit.navigator_input["persons"][0]["birth_date"] == "1955-05-01"


def test_an_existing_resident_counts_by_the_approximate_day(move_in, clerk):
    (resident,) = move_in([person("古川 一", "フルカワ ハジメ", birth="昭和30年5月日不詳")])
    data = {
        "event": {"type": "move_within", "date": "令和8年4月3日", "subjects": ["p1"]},
        "persons": [{"id": "p1", "atena_number": resident.atena_number, "insurance": "kokuho"}],
        "address": ADDRESS | {"machiaza": "丸の内"},
    }
    navigator_input, _procedures = life_event_preview(data=data)
    assert navigator_input["persons"][0]["birth_date"] == "1955-05-01"


def test_an_existing_resident_born_on_an_unknown_year_is_refused_by_name(move_in):
    (resident,) = move_in([person("古川 二", "フルカワ ジ", birth="年月日不詳")])
    data = {
        "event": {"type": "move_within", "date": "令和8年4月3日", "subjects": ["p1"]},
        "persons": [{"id": "p1", "atena_number": resident.atena_number, "insurance": "kokuho"}],
        "address": ADDRESS | {"machiaza": "丸の内"},
    }
    with pytest.raises(IntakeError) as info:
        life_event_preview(data=data)
    assert info.value.errors == [
        "persons[0].birth_date: 住民記録の生年月日が年月日不詳のため、年齢で決まる手続きを"
        f"判定できません（宛名番号 {resident.atena_number}）"
    ]


@pytest.mark.parametrize(
    "typed",
    ["2026-02-30", "令和8年2月30日", "令和8年頃", "令和8年6月1日頃", "年月日不詳", "令和元年4月1"],
)
def test_the_screen_and_the_api_refuse_an_event_date_in_the_same_words(municipality_a, typed):
    from django import forms

    from machi.counter.forms_intake import clean_calendar_date

    with pytest.raises(forms.ValidationError) as screen:
        clean_calendar_date(typed, label="異動日")
    [message] = screen.value.messages
    [api] = [e for e in _errors(_move_in(typed)) if e.startswith("event.date")]
    reason = message.removeprefix("異動日: ")
    assert api.removeprefix("event.date: ").startswith(reason.removesuffix(f": {typed!r}"))


@pytest.mark.parametrize("typed", ["年月日不詳", "年月日不詳 "])
def test_the_screen_names_the_birth_date_field_of_a_newcomer_born_in_an_unknown_year(typed):
    from machi.counter.forms_intake import NewcomerForm

    form = NewcomerForm(
        data={"name": "髙橋 一郎", "sex": "1", "birth_date": typed, "relationship": "世帯主"}
    )
    assert not form.is_valid()
    [message] = form.errors["birth_date"]
    assert message == f"生年月日: 年が不詳の生年月日では判定できません（{typed.strip()}）"
