"""Catalogue loading, validation and a municipality's override (pure engine tests)."""

from __future__ import annotations

import pytest

from machi.procedures.engine import (
    CatalogueError,
    build_catalogue,
    default_catalogue,
    default_document,
    load_document,
    navigate,
)
from machi.procedures.engine.catalogue import DEFAULT_CATALOGUE_PATH
from machi.procedures.tests.helpers import P, S, due, fired


def build(text: str):
    return build_catalogue(default_document(), load_document(text, name="override"))


def errors_of(text: str) -> list[str]:
    with pytest.raises(CatalogueError) as info:
        build(text)
    return info.value.errors


def test_default_catalogue_matches_domain():
    catalogue = default_catalogue()
    assert list(catalogue.departments) == [
        "shimin", "hoken_nenkin", "kaigo", "kosodate", "kenko", "kyoiku", "kankyo",
        "fukushi", "zeimu",
    ]  # fmt: skip
    assert len(catalogue.entries) == 46
    assert catalogue.entry("juki.move_in").forms == ("jumin_idou_todoke",)
    assert catalogue.entry("kokuho.enroll").forms == ("kokuho_shikaku_shutoku_todoke",)
    assert catalogue.entry("child_allowance.apply").forms == ("jidou_teate_nintei_seikyu",)
    transfer = catalogue.entry("kaigo.certificate_transfer")
    assert transfer.rule_for("move_in")["due"] == "+14"
    assert transfer.rule_for("move_out")["due"] is None


def test_the_engine_imports_nothing_from_django():
    import ast
    from pathlib import Path

    engine = Path(DEFAULT_CATALOGUE_PATH).parent.parent / "engine"
    for path in engine.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.split(".")[0] == "django" for n in names), path


def test_empty_override_is_the_default():
    catalogue = build("")
    assert [e.code for e in catalogue.entries] == [e.code for e in default_catalogue().entries]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("procedures:\n- {code: kaigo.enroll, events: [moving]}",
         "procedures[0] (kaigo.enroll): events: 未知の出来事 'moving'"),
        ("procedures:\n- {code: kaigo.enroll, condition: 'legal_age(person.birth_date, D) >='}",
         "procedures[0] (kaigo.enroll): condition: CEL の構文エラー"),
        ("procedures:\n- {code: kaigo.enroll, condition: 'ages(person.birth_date, D) >= 65'}",
         "procedures[0] (kaigo.enroll): condition: 未知のヘルパー関数 'ages'"),
        ("procedures:\n- {code: kaigo.enroll, condition: 'persno.care_certified'}",
         "procedures[0] (kaigo.enroll): condition: 未知の変数 'persno'"),
        ("procedures:\n- {code: kaigo.enroll, department: kaigo2}",
         "procedures[0] (kaigo.enroll): department: 未知の課 'kaigo2'"),
        ("procedures:\n- {code: kaigo.enroll}\n- {code: kaigo.enroll}",
         "procedures[1] (kaigo.enroll): code: 重複しています"),
        ("procedures:\n- {code: kaigo.enroll, due: '14 days'}",
         "procedures[0] (kaigo.enroll): due: "),
        ("procedures:\n- {code: kaigo.enroll, applies_to: newborn}",
         "procedures[0] (kaigo.enroll): applies_to: 'newborn' は birth の手続きにだけ使えます"),
        ("procedures:\n- {code: kaigo.enroll, applies_to: everybody}",
         "procedures[0] (kaigo.enroll): applies_to: 未知の対象 'everybody'"),
        ("procedures:\n- {code: kaigo.enroll, reason: '{name}さんは65歳以上です'}",
         "procedures[0] (kaigo.enroll): reason: 未知の差し込み {name}"),
        ("procedures:\n- {code: dog.transfer_in, reason: '{age}歳'}",
         "procedures[0] (dog.transfer_in): reason: 世帯単位の手続きでは {age} は使えません"),
        ("procedures:\n- {code: kaigo.enroll, condition: 'person.insurance'}",
         "procedures[0] (kaigo.enroll): condition: 評価できません"),
        ("procedures:\n- {code: kaigo.enroll, condition: 'person.insurance + 1 > 2'}",
         "procedures[0] (kaigo.enroll): condition: 評価できません"),
        ("procedures:\n- {code: kaigo.enroll, condition: 'person.has_car'}",
         "procedures[0] (kaigo.enroll): condition: 評価できません"),
        ("procedures:\n- {code: kaigo.enroll, colour: red}",
         "procedures[0] (kaigo.enroll): 未知の項目 colour"),
        ("procedures:\n- {code: parking.permit, title: 駐車許可}",
         "procedures[0] (parking.permit): department: 必須の項目がありません"),
        ("procedures:\n- {code: no.such, disabled: true}",
         "procedures[0] (no.such): disabled: 既定の目録にない手続きです"),
        ("procedures:\n- {code: kaigo.enroll, variants: {death: {due: null}}}",
         "procedures[0] (kaigo.enroll): variants.death: events にない出来事です"),
        ("procedures:\n- code: kaigo.certificate_transfer\n"
         "  variants: {move_out: {condition: 'x'}}",
         "procedures[0] (kaigo.certificate_transfer): variants.move_out: condition: "
         "未知の変数 'x'"),
        ("procedures:\n- {code: Kaigo Enroll}", "procedures[0] (Kaigo Enroll): code: "),
        ("departments: {kaigo: ''}", "departments.kaigo: 表示名がありません"),
        ("closed_days: [2026-13-01]", "closed_days[0]: "),
        ("colour: red", "未知の項目 colour"),
        ("procedures: [\n  {code: a", "override: 2行"),
        ("- 1\n- 2", "override: 最上位は"),
    ],
)  # fmt: skip
def test_invalid_override_is_rejected_naming_the_entry(text, expected):
    errors = errors_of(text)
    assert any(error.startswith(expected) for error in errors), errors


def test_every_problem_is_reported():
    errors = errors_of(
        "procedures:\n"
        "- {code: kaigo.enroll, events: [moving]}\n"
        "- {code: kokuho.enroll, department: nowhere}\n"
        "- {code: seal.register, condition: 'foo(1)'}\n"
    )
    assert [e.split(":")[0] for e in errors] == [
        "procedures[0] (kaigo.enroll)",
        "procedures[1] (kokuho.enroll)",
        "procedures[2] (seal.register)",
    ]


OVERRIDE = """
departments:
  kaigo: 高齢介護課
  shimin: 住民課
  bunka: 文化振興課
closed_days: [2026-04-17]
procedures:
  - code: dog.transfer_in
    disabled: true
  - code: kaigo.enroll
    condition: legal_age(person.birth_date, D) >= 70
    reason: 70歳以上（法定年齢 {legal_age}歳）の転入のため案内します
  - code: library.card
    title: 図書館利用カードの住所変更
    department: bunka
    events: [move_in, move_within]
    applies_to: each_subject
    condition: answers.has_library_card
    due: 30
    forms: [toshokan_card]
    reason: 図書館利用カードを持っているため住所を変更します
"""


def test_override_changes_the_result():
    catalogue = build(OVERRIDE)
    scenario = S(
        "move_in", ["o", "a"], [P("o", "1958-01-01"), P("a")],
        answers={"has_dog": True, "has_library_card": True},
    )  # fmt: skip
    default = navigate(scenario | {"answers": {"has_dog": True}})
    changed = navigate(scenario, catalogue)
    assert fired(default, "kaigo.enroll") == ["o"]  # 68 ≥ 65
    assert fired(changed, "kaigo.enroll") == []  # 68 < 70
    assert fired(default, "dog.transfer_in") == [None]
    assert fired(changed, "dog.transfer_in") == []  # disabled
    assert fired(changed, "library.card") == ["o", "a"]  # added; the answer is known now
    assert due(changed, "library.card") == "2026-05-07"  # +30 rolled past Golden Week
    # the extra closed day 2026-04-17 moves the +14 deadlines to Monday 04-20
    assert due(default, "juki.move_in") == "2026-04-17"
    assert due(changed, "juki.move_in") == "2026-04-20"
    # renamed and added departments; the new one sorts after the defaults
    assert catalogue.departments["kaigo"] == "高齢介護課"
    assert list(catalogue.departments)[-1] == "bunka"
    assert changed["procedures"][-1]["code"] == "library.card"
    assert {p["department"] for p in changed["procedures"]} >= {"shimin", "bunka"}


def test_override_answers_default_to_false_and_unknown_answers_are_refused():
    catalogue = build(OVERRIDE)
    result = navigate(S("move_in", ["a"], [P("a")]), catalogue)
    assert fired(result, "library.card") == []
    assert "has_library_card" in catalogue.answer_keys
    assert "has_library_card" not in default_catalogue().answer_keys


def test_override_replaces_variants_whole():
    catalogue = build("procedures:\n- code: kaigo.certificate_transfer\n  variants: {}\n")
    result = navigate(S("move_out", ["o"], [P("o", care_certified=True)]), catalogue)
    assert due(result, "kaigo.certificate_transfer") == "2026-04-17"


def test_the_default_file_is_yaml_with_every_entry_complete():
    text = DEFAULT_CATALOGUE_PATH.read_text(encoding="utf-8")
    document = load_document(text)
    for entry in document["procedures"]:
        assert {"code", "title", "department", "events", "applies_to", "condition", "due",
                "forms", "reason"} <= set(entry), entry["code"]  # fmt: skip
