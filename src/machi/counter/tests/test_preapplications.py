"""Residents' pre-application: the public form, the results, codes, expiry, isolation."""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import re
import subprocess
import sys
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from machi.audit.models import AuditEntry
from machi.audit.services import Terminal
from machi.counter.models import PreApplication, PreApplicationIssue
from machi.counter.selectors import preapplication_get
from machi.counter.selectors.preapplications import (
    preapplication_code_normalise,
    relevant_questions,
)
from machi.counter.services import (
    PreApplicationError,
    preapplication_create,
    preapplication_mark_used,
)
from machi.counter.services import preapplications as service
from machi.counter.services.preapplications import (
    MAX_PERSONS,
    PreApplicationRateLimited,
    client_hash,
    preapplication_issues_prune,
    preapplication_purge_expired,
)
from machi.procedures.engine import NavigatorInputError, default_catalogue
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

JST = ZoneInfo("Asia/Tokyo")
A, B = "131016", "271403"
URL = f"/{A}/preapply/"


@pytest.fixture
def anonymous(municipality_a, municipality_b) -> Client:
    return Client()


def move_in_form(**changes: str) -> dict[str, str]:
    """Two adults with 国保 and an 8-year-old (with a parent's employer insurance), all
    moving in on Friday 2026-04-03; the first adult is the householder."""
    data = {
        "e-event": "move_in",
        "e-date": "2026-04-03",
        "e-count": "3",
        "e-shown": "3",
        "e-from_abroad": "0",
        "p1-subject": "1",
        "p1-birth_date": "1980-05-10",
        "p1-nationality": "JP",
        "p1-insurance": "kokuho",
        "p1-householder": "1",
        "p1-my_number_card": "1",
        "p2-subject": "1",
        "p2-birth_date": "昭和57年3月1日",  # 和暦
        "p2-nationality": "JP",
        "p2-insurance": "kokuho",
        "p2-householder": "0",
        "p3-subject": "1",
        "p3-birth_date": "H30.1.15",  # 2018-01-15: 8 years old, elementary school
        "p3-nationality": "JP",
        "p3-insurance": "employee",
        "p3-householder": "0",
        "a-has_dog": "0",
        "a-wants_seal_registration": "0",
    }
    data.update(changes)
    return data


def navigator_input(**event) -> dict:
    return {
        "event": {"type": "move_in", "date": "2026-04-03", "subjects": ["x", "y"], **event},
        "persons": [
            {"id": "x", "birth_date": "1980-05-10", "insurance": "kokuho", "householder": True},
            {"id": "y", "birth_date": "2018-01-15", "insurance": "kokuho"},
        ],
        "answers": {"has_dog": True},
    }


def create(lg_code: str = A, data: dict | None = None) -> PreApplication:
    with tenant_context(lg_code):
        return preapplication_create(navigator_input=data or navigator_input())


def fired(groups, code: str) -> list[str]:
    return [
        label for g in groups for p in g.procedures if p["code"] == code
        for label in p["person_labels"]
    ]  # fmt: skip


def feedback(html: str, field_id: str) -> str:
    match = re.search(rf'<div id="{field_id}_feedback" class="feedback">(.*?)</div>', html, re.S)
    assert match, field_id
    return match[1]


# --- the public pages -----------------------------------------------------------------------


def test_step1_needs_no_login(anonymous):
    response = anonymous.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert "必要な手続きを調べる" in html
    for label in ("転入", "転出", "転居", "出生", "死亡", "婚姻", "離婚", "世帯変更"):
        assert f'<span class="pa-event-name">{label}</span>' in html
    assert '<label for="id_e-date">' in html


def test_step1_errors(anonymous):
    response = anonymous.get(URL, {"e-event": "moving", "e-date": "2026-02-30", "e-count": "3"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "正しく選択してください" in html or "選択してください" in html
    assert "日付を" in html


def test_step2_shows_a_block_per_person(anonymous):
    response = anonymous.get(URL, {"e-event": "move_in", "e-date": "2026-04-03", "e-count": "3"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    for n in (1, 2, 3):
        assert f'<fieldset class="pa-person" id="pa-person-{n}">' in html
        assert f"<legend>{n}人目</legend>" in html
        assert f'<label for="id_p{n}-birth_date">生年月日</label>' in html
    assert "海外から引っ越してきましたか" in html  # from_abroad: move_in only
    assert "海外へ引っ越しますか" not in html
    # the questions the move_in rules read, and not the others
    assert "マイナンバーカードを持っていますか" in html
    assert "要介護・要支援の認定を受けていますか" in html
    assert "離婚後、お子さんと暮らして" not in html
    assert "犬を飼っていますか" in html
    assert "土地や建物" not in html
    assert 'value="2026-04-03"' in html


def test_questions_follow_the_catalogue():
    catalogue = default_catalogue()
    move_in, answers = relevant_questions(catalogue, "move_in")
    assert {"my_number_card", "care_certified", "disability_certificate"} <= move_in
    assert {"householder", "child_allowance_recipient", "civil_servant"} <= move_in
    assert "custodial_parent" not in move_in and "name_changes" not in move_in
    assert answers == ["wants_seal_registration", "has_dog"]
    divorce, answers = relevant_questions(catalogue, "divorce")
    assert {"custodial_parent", "name_changes", "pension"} <= divorce
    assert answers == []
    _death, answers = relevant_questions(catalogue, "death")
    assert answers == ["owns_real_estate"]


def test_move_in_results(anonymous):
    response = anonymous.post(URL, move_in_form())
    assert response.status_code == 200, response.content.decode()[:3000]
    groups = response.context["groups"]
    assert [g.name for g in groups] == ["市民課", "保険年金課", "子育て支援課", "学校教育課"]
    assert fired(groups, "juki.move_in") == ["1人目", "2人目", "3人目"]
    assert fired(groups, "kokuho.enroll") == ["1人目", "2人目"]
    assert fired(groups, "school.transfer_in") == ["3人目"]
    assert fired(groups, "child_medical.apply") == ["3人目"]
    assert fired(groups, "child_allowance.apply") == ["1人目"]  # the householder claims
    assert fired(groups, "mynumber.continue") == ["1人目"]
    assert fired(groups, "kaigo.enroll") == []
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert "転入届" in html and "令和8年4月17日（金）まで" in html
    assert "窓口で使う番号を発行" in html
    assert "<td>昭和57年3月1日</td>" in html  # read back and shown as every date is
    assert 'name="p2-birth_date" value="昭和57年3月1日"' in html  # carried for 修正


def test_invalid_date_is_shown_on_that_person(anonymous):
    response = anonymous.post(URL, move_in_form(**{"p2-birth_date": "1985/13/01"}))
    assert response.status_code == 400
    html = response.content.decode()
    assert "13月はありません: &#x27;1985/13/01&#x27;" in feedback(html, "id_p2-birth_date")
    assert feedback(html, "id_p1-birth_date").strip() == ""
    assert feedback(html, "id_p3-birth_date").strip() == ""
    assert 'href="#id_p2-birth_date">2人目 生年月日:' in html  # the error summary
    assert re.search(r'name="p2-birth_date"[^>]*aria-invalid="true"', html)
    assert 'aria-describedby="id_p2-birth_date_feedback id_p2-birth_date_helptext"' in html
    assert not PreApplication.objects.using(f"tenant_{A}").exists()


def test_birth_after_the_event_and_missing_answers(anonymous):
    response = anonymous.post(
        URL, move_in_form(**{"p3-birth_date": "2026-05-01", "p1-insurance": ""})
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "健康保険を選んでください" in feedback(html, "id_p1-insurance")
    # the navigator's check comes after the form's: fix the insurance and see it
    response = anonymous.post(URL, move_in_form(**{"p3-birth_date": "2026-05-01"}))
    assert response.status_code == 400
    assert "出来事の日（2026-04-03）より後の日付です" in feedback(
        response.content.decode(), "id_p3-birth_date"
    )


def test_someone_must_be_the_subject(anonymous):
    data = move_in_form(**{"p1-subject": "0", "p2-subject": "0", "p3-subject": "0"})
    response = anonymous.post(URL, data)
    assert response.status_code == 400
    assert "「はい」と答えた方が1人以上必要です" in response.content.decode()


def test_resize_keeps_what_was_entered(anonymous):
    data = move_in_form(**{"e-count": "4", "action": "resize"})
    response = anonymous.post(URL, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<legend>4人目</legend>" in html
    assert 'value="昭和57年3月1日"' in html
    assert "入力を確認してください" not in html  # no errors for the new, empty block
    # the number changed without 「人数を変更」: the blocks are shown, not checked
    response = anonymous.post(URL, move_in_form(**{"e-count": "2"}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "世帯の人数を2人にしました" in html and "<legend>3人目</legend>" not in html


def test_issue_code_and_show_it_again(anonymous):
    response = anonymous.post(URL, move_in_form(action="issue"))
    assert response.status_code == 302
    code = response.url.rstrip("/").rsplit("/", 1)[-1]
    assert response.url == f"/{A}/preapply/{code}/"
    assert re.fullmatch(r"[ACEFGHJKMNPRTWXY34679]{8}", code)
    with tenant_context(A):
        saved = preapplication_get(code=code)
    assert saved is not None and saved.used_at is None
    assert saved.expires_at - saved.created_at == datetime.timedelta(days=30)

    page = anonymous.get(response.url)
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("<h1") == 1
    assert f"{code[:4]}-{code[4:]}" in html
    assert '<svg role="img" viewBox=' in html and "<title>事前申請番号" in html
    assert "<dd>1人目、2人目、3人目</dd>" in html  # one 転入届 entry for the three
    assert "転入届" in html and "子ども医療費助成の申請" in html
    assert "data-print" in html
    assert fired(page.context["groups"], "juki.move_in") == ["1人目", "2人目", "3人目"]
    # as typed at the counter: lower case, hyphen
    again = anonymous.get(f"/{A}/preapply/{code[:4].lower()}-{code[4:].lower()}/")
    assert again.status_code == 302 and again.url == f"/{A}/preapply/{code}/"


def test_saved_input_is_the_canonical_navigator_input(anonymous):
    anonymous.post(URL, move_in_form(action="issue"))
    saved = PreApplication.objects.using(f"tenant_{A}").get()
    data = saved.navigator_input
    assert data["event"] == {
        "type": "move_in", "date": "2026-04-03", "subjects": ["p1", "p2", "p3"],
        "from_abroad": False, "to_abroad": False,
    }  # fmt: skip
    assert [p["birth_date"] for p in data["persons"]] == ["1980-05-10", "1982-03-01", "2018-01-15"]
    assert data["persons"][0]["householder"] is True
    assert data["answers"] == {"has_dog": False, "wants_seal_registration": False}
    # nothing but the code, the input and timestamps
    assert {f.name for f in PreApplication._meta.get_fields()} == {
        "id", "code", "navigator_input", "created_at", "expires_at", "used_at",
    }  # fmt: skip


def test_no_personal_data_beyond_the_navigator_input(municipality_a):
    data = navigator_input()
    data["persons"][0]["id"] = "山田 太郎"
    data["persons"][1]["id"] = "山田 花子 090-1234-5678"
    data["event"]["subjects"] = ["山田 太郎", "山田 花子 090-1234-5678"]
    data["persons"][0]["nationality"] = "JP"
    saved = create(data=data)
    text = str(saved.navigator_input)
    assert "山田" not in text and "090" not in text
    assert [p["id"] for p in saved.navigator_input["persons"]] == ["p1", "p2"]
    assert saved.navigator_input["event"]["subjects"] == ["p1", "p2"]
    # free text elsewhere is refused
    data = navigator_input()
    data["persons"][0]["name"] = "山田 太郎"
    with pytest.raises(NavigatorInputError, match=r"persons\[0\]\.name: 未知の項目"):
        create(data=data)
    data = navigator_input()
    data["persons"][0]["nationality"] = "東京都千代田区1-1"
    with pytest.raises(NavigatorInputError, match=r"persons\[0\]\.nationality"):
        create(data=data)
    data = navigator_input()
    data["answers"]["has_dog"] = "ポチ（柴犬）"
    with pytest.raises(NavigatorInputError, match=r"answers\.has_dog"):
        create(data=data)


@pytest.mark.parametrize(
    "answer", [1, 0, 1.5, "true", "はい", [True], {"yes": True}, "x"], ids=repr
)
def test_answers_are_true_or_false_only(municipality_a, answer):
    data = navigator_input()
    data["answers"] = {"has_dog": answer}
    with tenant_context(A):
        before = PreApplication.objects.count()
        with pytest.raises(NavigatorInputError) as info:
            preapplication_create(navigator_input=data)
        assert PreApplication.objects.count() == before
    assert info.value.errors == ["answers.has_dog: はい・いいえ（true / false）で答えてください"]


def test_a_person_answer_is_not_kept_either(municipality_a):
    # 葬祭費's funeral_host names a person: the counter asks it, a pre-application does not
    data = navigator_input(type="death", subjects=["x"])
    data["answers"] = {"funeral_host": "y", "owns_real_estate": True}
    with pytest.raises(NavigatorInputError, match=r"answers\.funeral_host: はい・いいえ"):
        create(data=data)
    data["answers"] = {"funeral_host": None, "owns_real_estate": True}
    assert create(data=data).navigator_input["answers"] == {"owns_real_estate": True}


def test_person_flags_are_true_or_false_only(municipality_a):
    data = navigator_input()
    data["persons"][0]["civil_servant"] = 1
    with pytest.raises(NavigatorInputError, match=r"persons\[0\]\.civil_servant: true か false"):
        create(data=data)


def test_dates_are_stored_as_iso_dates(municipality_a):
    data = navigator_input(date="R8.4.3")
    data["persons"][0]["birth_date"] = "昭和30年月日不詳"  # the registry's 不詳 form
    data["persons"][1]["birth_date"] = "ｈ３０．１．１５"
    saved = create(data=data).navigator_input
    assert saved["event"]["date"] == "2026-04-03"
    assert [p["birth_date"] for p in saved["persons"]] == ["1955-01-01", "2018-01-15"]


@pytest.mark.parametrize(
    ("field", "typed", "expected"),
    [
        (
            "event",
            "令和元年4月1日",
            "event.date: 令和元年は5月1日からです（令和元年4月1日は平成31年4月1日）",
        ),
        ("event", "2026-02-30", "event.date: 2026年2月は28日までです（2026-02-30）"),
        ("birth", "令和元年4月1日", "persons[0].birth_date: 令和元年は5月1日からです"),
        ("birth", "年月日不詳", "persons[0].birth_date: 年が不詳の生年月日では判定できません"),
    ],
)
def test_an_impossible_date_is_refused_naming_the_field(municipality_a, field, typed, expected):
    data = navigator_input()
    if field == "event":
        data["event"]["date"] = typed
    else:
        data["persons"][0]["birth_date"] = typed
    with pytest.raises(NavigatorInputError) as info:
        create(data=data)
    assert any(error.startswith(expected) for error in info.value.errors), info.value.errors


def test_limits(municipality_a):
    data = navigator_input()
    data["persons"] = [
        {"id": f"p{n}", "birth_date": "1980-05-10", "insurance": "kokuho"}
        for n in range(MAX_PERSONS + 1)
    ]
    with pytest.raises(NavigatorInputError, match="10 人までです"):
        create(data=data)
    data = navigator_input()
    data["persons"][0]["birth_date"] = "1" * 30_000
    with pytest.raises(NavigatorInputError, match="大きすぎます"):
        create(data=data)
    with pytest.raises(NavigatorInputError, match=r"event\.type"):
        create(data=navigator_input(type="moving"))


def test_form_count_is_capped(anonymous):
    response = anonymous.get(URL, {"e-event": "move_in", "e-date": "2026-04-03", "e-count": "50"})
    assert response.status_code == 400
    response = anonymous.post(URL, move_in_form(**{"e-count": "50", "action": "resize"}))
    assert "<legend>10人目</legend>" in response.content.decode()
    assert "<legend>11人目</legend>" not in response.content.decode()


def test_code_expires_after_30_days(anonymous, time_machine):
    time_machine.move_to(datetime.datetime(2026, 4, 1, 9, tzinfo=JST), tick=False)
    saved = create()
    time_machine.move_to(datetime.datetime(2026, 5, 1, 8, 59, tzinfo=JST), tick=False)
    assert anonymous.get(f"/{A}/preapply/{saved.code}/").status_code == 200
    time_machine.move_to(datetime.datetime(2026, 5, 1, 9, tzinfo=JST), tick=False)
    with tenant_context(A):
        assert preapplication_get(code=saved.code) is None
    response = anonymous.get(f"/{A}/preapply/{saved.code}/")
    assert response.status_code == 404
    assert "有効期限（発行から30日）" in response.content.decode()
    with tenant_context(A):
        assert preapplication_purge_expired() == 1


def test_codes_are_per_municipality(anonymous):
    saved = create(A)
    assert anonymous.get(f"/{A}/preapply/{saved.code}/").status_code == 200
    assert anonymous.get(f"/{B}/preapply/{saved.code}/").status_code == 404
    with tenant_context(B):
        assert preapplication_get(code=saved.code) is None
    assert anonymous.get(f"/{A}/preapply/NOTACODE/").status_code == 404
    assert anonymous.get(f"/{A}/preapply/x/").status_code == 404


def test_code_normalise():
    assert preapplication_code_normalise("acef-gh34") == "ACEFGH34"
    assert preapplication_code_normalise("ＡＣＥＦ－ＧＨ３４") == "ACEFGH34"
    assert preapplication_code_normalise("https://x/131016/preapply/ACEFGH34/") == "ACEFGH34"
    assert preapplication_code_normalise("ACEFGH3") is None
    assert preapplication_code_normalise("ACEFGH30") is None  # 0 is not in the alphabet
    assert preapplication_code_normalise("") is None


def test_mark_used_is_audited(municipality_a, make_staff):
    clerk = make_staff(municipality_a, ("shimin", "counter_clerk"))
    saved = create()
    terminal = Terminal(ip_address="192.0.2.1", user_agent="test")
    with tenant_context(A):
        used = preapplication_mark_used(preapplication=saved, actor=clerk, terminal=terminal)
        assert used.used_at is not None
        again = preapplication_mark_used(preapplication=saved, actor=clerk, terminal=terminal)
        assert again.used_at == used.used_at  # the first use is kept
        entries = list(AuditEntry.objects.filter(action="preapplication.used"))
    assert [e.object_id for e in entries] == [saved.code, saved.code]
    assert [e.detail["first_use"] for e in sorted(entries, key=lambda e: e.seq)] == [True, False]
    assert entries[0].actor_id == clerk.pk


def test_mark_used_refuses_an_expired_code(municipality_a, time_machine):
    time_machine.move_to(datetime.datetime(2026, 4, 1, 9, tzinfo=JST), tick=False)
    saved = create()
    time_machine.move_to(datetime.datetime(2026, 6, 1, 9, tzinfo=JST), tick=False)
    with tenant_context(A), pytest.raises(PreApplicationError, match="有効期限"):
        preapplication_mark_used(preapplication=saved, actor=None, terminal=None)


def test_issuing_is_rate_limited(anonymous, monkeypatch):
    monkeypatch.setattr(service, "ISSUE_LIMIT", 2)
    for _ in range(2):
        assert anonymous.post(URL, move_in_form(action="issue")).status_code == 302
    response = anonymous.post(URL, move_in_form(action="issue"))
    assert response.status_code == 429
    assert "しばらくしてから" in response.content.decode()
    assert PreApplication.objects.using(f"tenant_{A}").count() == 2


def test_edit_goes_back_to_the_form_with_the_answers(anonymous):
    response = anonymous.post(URL, move_in_form(action="edit"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<legend>3人目</legend>" in html and 'value="H30.1.15"' in html


def test_page_is_japanese_for_an_english_browser(anonymous):
    response = anonymous.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert "本文へ移動" in response.content.decode()


def test_staff_of_another_municipality_may_use_it(make_staff, municipality_b, signed_in):
    """Public: a signed-in staff member of B sees A's page like anyone else."""
    staff_b = make_staff(municipality_b, ("shimin", "counter_clerk"))
    assert signed_in(staff_b).get(URL).status_code == 200


def test_behind_a_proxy_the_limit_is_per_resident_not_per_proxy(anonymous, monkeypatch, settings):
    """Every request reaches machi from the reverse proxy: the limit must count the
    address the proxy saw (X-Forwarded-For), or one busy hour would lock everyone out."""
    settings.MACHI_PROXY_COUNT = 1
    monkeypatch.setattr(service, "ISSUE_LIMIT", 2)
    first, second = "203.0.113.7", "198.51.100.20"
    for _ in range(2):
        response = anonymous.post(URL, move_in_form(action="issue"), HTTP_X_FORWARDED_FOR=first)
        assert response.status_code == 302
    refused = anonymous.post(URL, move_in_form(action="issue"), HTTP_X_FORWARDED_FOR=first)
    assert refused.status_code == 429
    # A resident cannot escape the limit by writing another address into the header:
    # only the address the proxy appended (the last one) counts.
    spoofed = anonymous.post(
        URL, move_in_form(action="issue"), HTTP_X_FORWARDED_FOR=f"{second}, {first}"
    )
    assert spoofed.status_code == 429
    other = anonymous.post(URL, move_in_form(action="issue"), HTTP_X_FORWARDED_FOR=second)
    assert other.status_code == 302
    assert PreApplication.objects.using(f"tenant_{A}").count() == 3


# --- the limit per address, in the database ------------------------------------------------


def issue_from(address: str, lg_code: str = A) -> str:
    with tenant_context(lg_code):
        try:
            preapplication_create(navigator_input=navigator_input(), client_address=address)
        except PreApplicationRateLimited:
            return "refused"
    return "issued"


def test_the_limit_is_20_codes_in_any_hour(municipality_a, time_machine):
    assert service.ISSUE_LIMIT == 20  # documented in docs/counter.md
    time_machine.move_to(datetime.datetime(2026, 4, 6, 9, tzinfo=JST), tick=False)
    assert [issue_from("203.0.113.7") for _ in range(10)] == ["issued"] * 10
    time_machine.move_to(datetime.datetime(2026, 4, 6, 9, 30, tzinfo=JST), tick=False)
    assert [issue_from("203.0.113.7") for _ in range(11)] == ["issued"] * 10 + ["refused"]
    # a sliding hour: the 9:00 codes stop counting after 10:00, the 9:30 ones still count
    time_machine.move_to(datetime.datetime(2026, 4, 6, 9, 59, tzinfo=JST), tick=False)
    assert issue_from("203.0.113.7") == "refused"
    time_machine.move_to(datetime.datetime(2026, 4, 6, 10, 0, 1, tzinfo=JST), tick=False)
    assert [issue_from("203.0.113.7") for _ in range(11)] == ["issued"] * 10 + ["refused"]
    with tenant_context(A):
        assert PreApplication.objects.count() == 30
        # a refused attempt writes nothing: a flood does not grow the table
        assert PreApplicationIssue.objects.count() == 30


def test_the_address_is_stored_only_as_a_keyed_hash(municipality_a, settings):
    issue_from("203.0.113.7")
    with tenant_context(A):
        (row,) = PreApplicationIssue.objects.values_list("client_hash", flat=True)
    assert row == client_hash("203.0.113.7") and len(row) == 64
    assert "203.0.113" not in row
    assert row != hashlib.sha256(b"203.0.113.7").hexdigest()  # not a plain, guessable hash
    settings.SECRET_KEY = "another-secret-key-" + "y" * 40
    assert client_hash("203.0.113.7") != row


def test_the_limit_is_per_municipality_and_per_address(municipality_a, municipality_b, monkeypatch):
    monkeypatch.setattr(service, "ISSUE_LIMIT", 1)
    assert [issue_from("203.0.113.7"), issue_from("203.0.113.7")] == ["issued", "refused"]
    assert issue_from("203.0.113.7", lg_code=B) == "issued"
    assert issue_from("198.51.100.20") == "issued"
    # the counter's own callers (no address) are not limited
    with tenant_context(A):
        preapplication_create(navigator_input=navigator_input())


def test_old_issue_rows_are_pruned(municipality_a, time_machine):
    time_machine.move_to(datetime.datetime(2026, 4, 6, 9, tzinfo=JST), tick=False)
    issue_from("203.0.113.7")
    time_machine.move_to(datetime.datetime(2026, 4, 6, 9, 40, tzinfo=JST), tick=False)
    issue_from("203.0.113.7")
    time_machine.move_to(datetime.datetime(2026, 4, 6, 10, 10, tzinfo=JST), tick=False)
    with tenant_context(A):
        assert preapplication_issues_prune() == 1
        assert preapplication_issues_prune() == 0
        assert PreApplicationIssue.objects.count() == 1
        assert PreApplication.objects.count() == 2  # the codes themselves stay valid


FRESH = "131083"  # 江東区: created by the test, its database outside the test's transactions
SUBPROCESS = """
import json, sys
import django
django.setup()
from machi.counter.services.preapplications import PreApplicationRateLimited
from machi.counter.services.preapplications import preapplication_create
from machi.tenancy.context import tenant_context
from machi.tenancy.databases import register_tenant_connection
lg_code, url, address, data = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
register_tenant_connection(lg_code, url)
outcomes = []
with tenant_context(lg_code):
    for _ in range(2):
        try:
            preapplication_create(navigator_input=data, client_address=address)
            outcomes.append("issued")
        except PreApplicationRateLimited:
            outcomes.append("refused")
print(json.dumps(outcomes))
"""


def test_the_limit_holds_across_processes(new_tenants):
    """Another process (another gunicorn worker) sees the same count: it is read from the
    municipality's database, not from a per-process cache."""
    from machi.tenancy.models import Municipality
    from machi.tenancy.services import municipality_create

    new_tenants.append(FRESH)
    municipality_create(lg_code=FRESH, name="江東区")
    url = Municipality.objects.get(lg_code=FRESH).database_url
    address = "203.0.113.7"
    assert [issue_from(address, FRESH) for _ in range(19)] == ["issued"] * 19

    def other_process() -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", SUBPROCESS, FRESH, url, address, json.dumps(navigator_input())],
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "machi.settings"},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    # the 20th code is the other process's; its 21st is refused, and so is ours
    assert other_process() == ["issued", "refused"]
    assert issue_from(address, FRESH) == "refused"
    assert issue_from("198.51.100.20", FRESH) == "issued"
    with tenant_context(FRESH):
        assert PreApplicationIssue.objects.filter(client_hash=client_hash(address)).count() == 20


# --- retention on the worker ----------------------------------------------------------------

RETENTION_TASK = "machi.counter.tasks.counter_retention_task"


@pytest.fixture
def worker(monkeypatch):
    """`machi db_worker --batch` in this process, with only the counter's periodic task
    (it keeps the test's connections, which hold its transaction, and the test runner's
    signal handlers)."""
    from django.core.management import call_command
    from django.utils.module_loading import autodiscover_modules
    from django_tasks_db.management.commands import db_worker

    from machi.tenancy import periodic

    # Every app's tasks imported (registered) now: one first imported while the registry
    # below stands in would be missing from the real one for the rest of the session.
    autodiscover_modules("tasks")

    monkeypatch.setattr(periodic, "_REGISTRY", {RETENTION_TASK: datetime.timedelta(hours=1)})
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    monkeypatch.setattr(db_worker.Worker, "configure_signals", lambda self: None)
    return lambda: call_command(
        "db_worker", "--batch", "--no-startup-delay", "--no-reload", "--verbosity", "0",
        stdout=io.StringIO(),
    )  # fmt: skip


def test_the_worker_purges_expired_pre_applications_every_hour(
    municipality_a, municipality_b, worker, time_machine
):
    from django_tasks_db.models import DBTaskResult

    time_machine.move_to(datetime.datetime(2026, 4, 1, 9, tzinfo=JST), tick=False)
    old = create(A)
    issue_from("203.0.113.7")  # a code and its issue row
    time_machine.move_to(datetime.datetime(2026, 4, 20, 9, tzinfo=JST), tick=False)
    recent = create(A)
    in_b = create(B)
    time_machine.move_to(datetime.datetime(2026, 5, 1, 9, 30, tzinfo=JST), tick=False)

    worker()  # starts: the first run at once

    with tenant_context(A):
        assert set(PreApplication.objects.values_list("code", flat=True)) == {recent.code}
        assert not PreApplication.objects.filter(code=old.code).exists()
        assert PreApplicationIssue.objects.count() == 0
        entry = AuditEntry.objects.get(action="preapplication.purged")
        assert entry.detail == {"preapplications": 2, "issues": 1, "valid_days": 30}
        assert entry.user_agent == "machi db_worker"
    with tenant_context(B):
        assert PreApplication.objects.filter(code=in_b.code).exists()
        assert AuditEntry.objects.get(action="preapplication.purged").detail["preapplications"] == 0
    ran = DBTaskResult.objects.get(task_path=RETENTION_TASK, status="SUCCESSFUL")
    assert ran.return_value[A] == {"preapplications": 2, "issues": 1}
    (following,) = DBTaskResult.objects.filter(task_path=RETENTION_TASK, status="READY")
    assert following.run_after == datetime.datetime(2026, 5, 1, 10, 30, tzinfo=JST)

    # an hour later the next run removes what expired meanwhile
    time_machine.move_to(datetime.datetime(2026, 5, 20, 10, 31, tzinfo=JST), tick=False)
    worker()
    with tenant_context(A):
        assert not PreApplication.objects.exists()
        assert AuditEntry.objects.filter(action="preapplication.purged").count() == 2


def test_one_unreachable_municipality_does_not_stop_the_others(
    municipality_a, new_tenants, tmp_path, time_machine
):
    """A municipality whose database has no tables (restored wrongly, say): the run goes
    on with the others and then fails, naming it."""
    from machi.counter.tasks import counter_retention_task
    from machi.tenancy.dbconfig import sqlite_url
    from machi.tenancy.models import Municipality

    new_tenants.append("131091")
    Municipality.objects.create(
        lg_code="131091", name="品川区", prefecture="東京都",
        database_url=sqlite_url(tmp_path / "empty.sqlite3"),
    )  # fmt: skip
    time_machine.move_to(datetime.datetime(2026, 4, 1, 9, tzinfo=JST), tick=False)
    create(A)
    time_machine.move_to(datetime.datetime(2026, 5, 2, 9, tzinfo=JST), tick=False)
    with pytest.raises(RuntimeError, match="131091"):
        counter_retention_task.call()
    with tenant_context(A):
        assert not PreApplication.objects.exists()
