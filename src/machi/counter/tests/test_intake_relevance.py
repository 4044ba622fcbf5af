"""Step 3 asks only the questions that matter (issue 12, part 2 item 4): through the real
views, for every life event of the default catalogue, with a real household."""

from __future__ import annotations

import re

import pytest

from machi.counter.views.intake import SESSION_KEY, intake_data
from machi.procedures.engine import QUESTION_FIELDS, default_catalogue, question_relevance
from machi.registry.tests.conftest import person

pytestmark = pytest.mark.django_db(databases="__all__")

A = "131016"
BASE = f"/{A}/counter/intake/"
HTMX = {"HTTP_HX_REQUEST": "true"}
DATE = "2026-12-01"
REFRESH = f"{BASE}step/questions/?refresh=1"
# the law's floors (relevance.possible_values): nobody under 15 is a 公務員 or holds a
# 印鑑登録 or receives 児童手当, no 国民年金 before 20, no 要介護認定 before 40
NEVER_AT_3 = {"pension", "civil_servant", "seal_registered", "care_certified",
              "child_allowance_recipient"}  # fmt: skip
NEVER_AT_30 = {"care_certified"}
EVENTS = tuple(default_catalogue().rules)
CONTROL = re.compile(r'name="q-(\w+)-(\w+)"')
ANSWER = re.compile(r'name="answers-(\w+)"')


def step(name: str) -> str:
    return f"{BASE}step/{name}/"


@pytest.fixture
def client(make_staff, municipality_a, signed_in):
    clerk = make_staff(municipality_a, ("shimin", "counter_clerk"), username="relevance-clerk")
    return signed_in(clerk)


@pytest.fixture
def family(move_in):
    """世帯主 (40, 国保), his wife (30), their child (3), his mother (80, 後期)."""
    return dict(
        zip(
            ("head", "wife", "child", "mother"),
            move_in(
                [
                    person("山田 太郎", "ヤマダ タロウ", birth="1986-01-10", kokuho=True),
                    person("山田 花子", "ヤマダ ハナコ", birth="1996-02-20", relationship="妻",
                           sex="2"),
                    person("山田 陽", "ヤマダ ヒナタ", birth="2023-06-01", relationship="子"),
                    person("山田 トメ", "ヤマダ トメ", birth="1946-03-03", relationship="母",
                           sex="2", kouki=True),
                ]
            ),
            strict=True,
        )
    )  # fmt: skip


# 転入: the same family arrives (newcomers, ages as above)
NEWCOMERS = [
    {"name": "川口 一郎", "kana": "カワグチ イチロウ", "sex": "1", "birth_date": "1986-01-10",
     "relationship": "世帯主", "nationality": "JP"},
    {"name": "川口 二葉", "kana": "カワグチ フタバ", "sex": "2", "birth_date": "平成8年2月20日",
     "relationship": "妻", "nationality": "JP"},
    {"name": "川口 三太", "kana": "カワグチ サンタ", "sex": "1", "birth_date": "令和5年6月1日",
     "relationship": "子", "nationality": "JP"},
]  # fmt: skip
NEWBORN = {"name": "山田 小春", "kana": "ヤマダ コハル", "sex": "2", "birth_date": DATE,
           "relationship": "子", "nationality": "JP"}  # fmt: skip
# who the event is about (the rest of the household is there too)
SUBJECTS = {"death": ("mother",), "marriage": ("head", "wife"), "divorce": ("head", "wife")}


def _newcomers_post(newcomers: list[dict]) -> dict:
    data = {"count": str(len(newcomers)), "action": "next"}
    for i, newcomer in enumerate(newcomers):
        data.update({f"n{i}-{k}": v for k, v in newcomer.items()})
    return data


def to_questions(client, event: str, family: dict, subjects=None) -> str:
    """Steps 1 and 2 through the views; step 3's page."""
    response = client.post(step("event"), {"event": event, "date": DATE}, **HTMX)
    assert response.status_code == 200
    if event == "move_in":
        response = client.post(step("persons"), _newcomers_post(NEWCOMERS), **HTMX)
    else:
        number = family["head"].household.household_number
        assert client.post(f"{BASE}household/", {"household": number}, **HTMX).status_code == 200
        if event == "birth":
            response = client.post(step("persons"), _newcomers_post([NEWBORN]), **HTMX)
        else:
            chosen = subjects or SUBJECTS.get(event, ("head", "wife", "child"))
            response = client.post(
                step("persons"), {"subjects": [family[k].atena_number for k in chosen]}, **HTMX
            )
    page = response.content.decode()
    assert response.status_code == 200 and 'id="intake-questions"' in page, page[-2000:]
    return page


def asked(page: str) -> dict[str, set[str]]:
    """Person key → the questions whose controls the page shows."""
    found: dict[str, set[str]] = {}
    for key, name in CONTROL.findall(page):
        if name in QUESTION_FIELDS:
            found.setdefault(key, set()).add(name)
    return found


def answers_asked(page: str) -> set[str]:
    return {key for key in ANSWER.findall(page) if key != "asked"}


def expected(client, event: str) -> tuple[dict[str, set[str]], set[str]]:
    """What question_relevance says for the draft's household, built here from the
    registry's facts (国保・後期 known, 児童手当 as recorded), plus what the event
    records whatever the rules read (a newcomer's insurance, a name that changes)."""
    draft = client.session[SESSION_KEY]
    persons, keys, subjects = [], [], []
    for member in draft["members"]:
        entry = {"id": member["atena_number"], "birth_date": member["birth_iso"],
                 "householder": member["relationship"] == "世帯主",
                 "child_allowance_recipient": member["child_allowance"]}  # fmt: skip
        if member["insurance"]:
            entry["insurance"] = member["insurance"]
        persons.append(entry)
        keys.append(member["atena_number"])
        if member["atena_number"] in draft["subjects"]:
            subjects.append(member["atena_number"])
    if event in ("move_in", "birth"):
        persons, keys, subjects = ([], [], []) if event == "move_in" else (persons, keys, [])
        source = NEWCOMERS if event == "move_in" else [NEWBORN]
        born = {"平成8年2月20日": "1996-02-20", "令和5年6月1日": "2023-06-01"}
        for i, newcomer in enumerate(source):
            birth = born.get(newcomer["birth_date"], newcomer["birth_date"])
            persons.append({"id": f"n{i}", "birth_date": birth,
                            "householder": newcomer["relationship"] == "世帯主"})  # fmt: skip
            keys.append(f"n{i}")
            subjects.append(f"n{i}")
    relevance = question_relevance(
        {"event": {"type": event, "date": DATE, "subjects": subjects}, "persons": persons},
        default_catalogue(),
    )
    result = {key: set(relevance.persons[key]) for key in keys}
    for key in keys:
        if key.startswith("n"):
            result[key].add("insurance")
        if event in ("marriage", "divorce") and key in subjects:
            result[key].add("name_changes")
    return {k: v for k, v in result.items() if v}, set(relevance.answers)


@pytest.mark.parametrize("event", EVENTS)
def test_each_event_asks_only_what_could_change_the_procedures(client, family, event):
    page = to_questions(client, event, family)
    shown = asked(page)
    persons, answers = expected(client, event)
    assert shown == persons
    assert answers_asked(page) == answers
    by_age = (
        {"child": "n2", "wife": "n1"}
        if event == "move_in"
        else {"child": family["child"].atena_number, "wife": family["wife"].atena_number}
    )
    assert not shown.get(by_age["child"], set()) & NEVER_AT_3  # no 国民年金・公務員 at 3
    assert not shown.get(by_age["wife"], set()) & NEVER_AT_30  # no 介護 at 30
    # the hidden lists say what the page showed (what the next post is checked against)
    for key, names in shown.items():
        listed = re.search(rf'name="q-{key}-asked" value="([^"]*)"', page)[1]
        assert set(listed.split(",")) == names


def test_something_is_asked_where_the_rules_read_it(client, family):
    # not a page that never asks anything: a move in asks each newcomer's insurance,
    # the adult's マイナンバーカード, and the household's dog
    page = to_questions(client, "move_in", family)
    shown = asked(page)
    assert {"insurance", "my_number_card"} <= shown["n0"]
    assert "insurance" in shown["n2"] and not shown["n2"] & NEVER_AT_3
    assert "has_dog" in answers_asked(page)
    # a move within of the whole household asks no insurance of anyone
    client.post(f"{BASE}cancel/")
    page = to_questions(client, "move_within", family)
    assert not any("insurance" in names for names in asked(page).values())


def test_the_person_answers_are_a_choice_among_the_household(client, family):
    page = to_questions(client, "death", family)
    assert {"funeral_host", "owns_real_estate", "heir_representative"} <= answers_asked(page)
    radios = re.findall(r'<input type="radio" name="answers-funeral_host" value="([^"]*)"', page)
    mother = family["mother"].atena_number
    assert set(radios) == {family[k].atena_number for k in ("head", "wife", "child")} | {""}
    assert mother not in radios  # not the deceased
    assert "葬儀を行った方" in page and "山田 花子（妻）" in page
    assert 'id="id_answers-funeral_host_0"' in page and 'for="id_answers-funeral_host_0"' in page
    # 和暦 and 西暦 in the person's heading (the one date filter)
    assert "昭和21年3月3日（1946年3月3日）" in page


def _death_post(family, page, **extra) -> dict:
    """A post from the death page ``page`` (its hidden lists of what it showed)."""
    mother = family["mother"].atena_number
    data = {
        f"q-{mother}-asked": re.search(rf'name="q-{mother}-asked" value="([^"]*)"', page)[1],
        f"q-{mother}-insurance": "kouki",  # prefilled from the registry
        "answers-asked": "funeral_host,owns_real_estate,heir_representative",
        "notifier-who": family["head"].atena_number,
    }
    data.update(extra)
    return data


def test_the_funeral_host_goes_to_the_navigator_as_a_person(client, family):
    page = to_questions(client, "death", family)
    wife = family["wife"].atena_number
    response = client.post(
        step("questions"),
        _death_post(family, page, **{"answers-funeral_host": wife, "answers-owns_real_estate": "on",
                               "answers-heir_representative": family["head"].atena_number}),
        **HTMX,
    )  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 200 and "この内容で確定する" in page
    draft = client.session[SESSION_KEY]
    data = intake_data(draft)
    ids = {p.get("atena_number"): p["id"] for p in data["persons"]}
    assert data["answers"]["funeral_host"] == ids[wife]
    assert data["answers"]["heir_representative"] == ids[family["head"].atena_number]
    assert "請求・申請: 山田 花子" in page  # 後期高齢者医療の葬祭費 → the 喪主


def test_a_funeral_host_outside_the_household_is_a_bad_value(client, family):
    page = to_questions(client, "death", family)
    for bad in ("99999999", family["mother"].atena_number):  # unknown; the deceased
        response = client.post(
            step("questions"), _death_post(family, page, **{"answers-funeral_host": bad}), **HTMX
        )
        page = response.content.decode()
        assert "世帯の方の中から選んでください。" in page
        assert 'href="#id_answers-funeral_host_0"' in page  # the summary links to the field
        assert "この内容で確定する" not in page
        assert "questions" not in client.session[SESSION_KEY]["done"]


def test_an_answer_that_makes_a_question_irrelevant_drops_it(client, family):
    page = to_questions(client, "death", family)
    # no real estate: nobody is asked who represents the heirs
    response = client.post(REFRESH, _death_post(family, page), **HTMX)
    refreshed = response.content.decode()
    assert response.status_code == 200
    assert "heir_representative" not in answers_asked(refreshed)
    assert {"funeral_host", "owns_real_estate"} <= answers_asked(refreshed)
    assert 'hx-swap-oob="true"' in refreshed and "確認事項を更新しました" in refreshed
    response = client.post(
        REFRESH, _death_post(family, page, **{"answers-owns_real_estate": "on"}), **HTMX
    )
    assert "heir_representative" in answers_asked(response.content.decode())
    # a refresh stores nothing and does not go on
    assert client.session[SESSION_KEY]["answers"] == {}
    # the answer to the dropped question is not kept
    head = family["head"].atena_number
    response = client.post(
        step("questions"),
        _death_post(
            family, page, **{"answers-heir_representative": head, "answers-funeral_host": ""}
        ),
        **HTMX,
    )
    assert "この内容で確定する" in response.content.decode()
    answers = client.session[SESSION_KEY]["answers"]
    assert "heir_representative" not in answers
    assert answers == {"funeral_host": None, "owns_real_estate": False}
    assert "heir_representative" not in intake_data(client.session[SESSION_KEY])["answers"]


def test_insurance_decides_whether_the_funeral_host_is_asked(client, family):
    # the wife dies; the registry does not know her insurance (not 国保 nor 後期)
    page = to_questions(client, "death", family, subjects=("wife",))
    wife = family["wife"].atena_number
    assert "insurance" in asked(page)[wife]
    assert "funeral_host" in answers_asked(page)
    # the insurance select re-renders the questions on change (htmx), labelled
    select = re.search(rf'<select name="q-{wife}-insurance"[^>]*>', page)[0]
    assert 'hx-trigger="change"' in select and "refresh=1" in select
    assert f'<label for="id_q-{wife}-insurance">' in page
    base = {
        f"q-{wife}-asked": ",".join(sorted(asked(page)[wife])),
        "answers-asked": "owns_real_estate",
        "notifier-who": family["head"].atena_number,
    }
    # 被用者保険: no 葬祭費 from the municipality, so no 喪主 question
    response = client.post(REFRESH, {**base, f"q-{wife}-insurance": "employee"}, **HTMX)
    refreshed = response.content.decode()
    assert "funeral_host" not in answers_asked(refreshed)
    assert '<option value="employee" selected>' in refreshed  # what was chosen stays
    # without JavaScript: 国保 chosen and 「次へ」 pressed on a page without the 喪主
    # question: the page comes back with it instead of going on
    response = client.post(step("questions"), {**base, f"q-{wife}-insurance": "kokuho"})
    page = response.content.decode()
    assert response.status_code == 200 and "確認事項が増えました" in page
    assert "funeral_host" in answers_asked(page)
    assert "questions" not in client.session[SESSION_KEY]["done"]
    # posted again from that page, it goes on
    base["answers-asked"] = "funeral_host,owns_real_estate"
    response = client.post(
        step("questions"),
        {**base, f"q-{wife}-insurance": "kokuho", "answers-funeral_host": ""},
    )
    assert response.status_code == 200 and "この内容で確定する" in response.content.decode()
    assert "questions" in client.session[SESSION_KEY]["done"]


def test_registry_knowledge_is_passed_and_shown(client, family):
    # 国保 in the registry: the householder's insurance is known and still shown (it
    # decides the 国保 喪失) when he moves out, prefilled
    page = to_questions(client, "move_out", family, subjects=("head",))
    head = family["head"].atena_number
    assert "insurance" in asked(page)[head]
    select = re.search(rf'<select name="q-{head}-insurance".*?</select>', page, re.S)[0]
    assert '<option value="kokuho" selected>' in select
    assert "住民記録から入れました" in page
    # the others stay home: nothing about them matters
    assert set(asked(page)) == {head}
    assert "この方に確認することはありません。" in page


def test_the_refresh_needs_the_intake_role(make_staff, municipality_a, signed_in, family):
    other = make_staff(municipality_a, ("zeimu", "department_staff"), username="relevance-tax")
    response = signed_in(other).post(REFRESH, {"answers-asked": ""}, **HTMX)
    assert response.status_code == 403


def test_the_refresh_before_the_steps_shows_step_one(client):
    response = client.post(REFRESH, {"answers-asked": "funeral_host"}, **HTMX)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="event"' in page and 'id="intake-questions"' not in page


def test_the_other_municipality_cannot_refresh_a_draft(
    make_staff, municipality_b, signed_in, client, family
):
    page = to_questions(client, "death", family)
    outsider = make_staff(municipality_b, ("shimin", "counter_clerk"), username="relevance-b")
    client_b = signed_in(outsider)
    # A's screen is not theirs
    assert client_b.post(REFRESH, _death_post(family, page), **HTMX).status_code in (403, 404)
    # their own screen refreshes their own (empty) draft: step one, never A's household
    response = client_b.post(
        "/271403/counter/intake/step/questions/?refresh=1", _death_post(family, page), **HTMX
    )
    assert response.status_code == 200
    assert "山田" not in response.content.decode() and 'name="event"' in response.content.decode()
