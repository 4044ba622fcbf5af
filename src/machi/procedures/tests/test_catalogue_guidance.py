"""The catalogue's guidance for the visit summary: ``places`` (where each department's
counter is) and each entry's ``bring`` / ``bring_from_abroad`` (持ち物).

Pure engine tests, plus one upload through the service (both databases).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from machi.procedures import services
from machi.procedures.engine import (
    CatalogueError,
    build_catalogue,
    default_catalogue,
    default_document,
    load_document,
)
from machi.procedures.engine.catalogue import MAX_TEXT
from machi.procedures.models import CatalogueVersion
from machi.tenancy.context import tenant_context

NINE = ("shimin", "hoken_nenkin", "kaigo", "kosodate", "kenko", "kyoiku", "kankyo", "fukushi",
        "zeimu")  # fmt: skip
PASSPORT = ("パスポート", "戸籍謄本・戸籍の附票（本籍地が他市区町村の方）")
CARD = ("マイナンバーカード", "住民基本台帳用の暗証番号（数字4桁）")
NUMBER = "マイナンバーカードまたは個人番号のわかるもの"
NOT_TEXT = "窓口の場所を文字列で書いてください"
NOT_MAP = "places: 「課のコード: 窓口の場所」の対応表で書いてください"


def build(text: str):
    return build_catalogue(default_document(), load_document(text, name="override"))


def errors_of(text: str) -> list[str]:
    with pytest.raises(CatalogueError) as info:
        build(text)
    return info.value.errors


def test_the_default_catalogue_carries_places_and_what_to_bring():
    catalogue = default_catalogue()
    assert tuple(catalogue.places) == NINE  # every default department has a place
    assert catalogue.places["shimin"] == "本庁舎1階 1〜4番窓口"
    assert catalogue.places["kenko"] == "保健センター1階"
    move_in = catalogue.entry("juki.move_in")
    assert move_in.bring == (
        "転出証明書（マイナンバーカードによる特例転入の場合はマイナンバーカード）",
    )
    assert move_in.what_to_bring() == move_in.bring
    assert move_in.what_to_bring(from_abroad=True) == PASSPORT
    # without bring_from_abroad, a move from abroad brings the same
    continue_card = catalogue.entry("mynumber.continue")
    assert continue_card.bring_from_abroad is None
    assert continue_card.what_to_bring(from_abroad=True) == CARD
    assert catalogue.entry("kaigo.enroll").bring == ()
    assert catalogue.entry("dog.transfer_in").bring == ("犬の鑑札", "狂犬病予防注射済票")
    assert sum(1 for e in catalogue.entries if e.bring) == 35


def test_the_default_file_gives_every_entry_its_bring():
    for entry in default_document()["procedures"]:
        assert isinstance(entry.get("bring"), list), entry["code"]


# (case id, override file, check on the built catalogue)
GOOD = [
    ("place replaced",
     "places: {shimin: 新庁舎2階 市民課窓口}",
     lambda c: c.places["shimin"] == "新庁舎2階 市民課窓口"
     and c.places["kaigo"] == "本庁舎1階 8番窓口"),
    ("place trimmed",
     "places: {kaigo: '  別館1階  '}",
     lambda c: c.places["kaigo"] == "別館1階"),
    ("place of an added department",
     "departments: {bunka: 文化振興課}\nplaces: {bunka: 別館3階}",
     lambda c: c.places["bunka"] == "別館3階" and list(c.places)[-1] == "bunka"),
    ("added department without a place",
     "departments: {bunka: 文化振興課}",
     lambda c: "bunka" not in c.places),
    ("place of exactly MAX_TEXT characters",
     f"places: {{zeimu: {'あ' * MAX_TEXT}}}",
     lambda c: len(c.places["zeimu"]) == MAX_TEXT),
    ("empty places",
     "places: {}",
     lambda c: c.places == default_catalogue().places),
    ("bring replaced",
     "procedures:\n- {code: kaigo.enroll, bring: [介護保険被保険者証, 印鑑]}",
     lambda c: c.entry("kaigo.enroll").bring == ("介護保険被保険者証", "印鑑")),
    ("bring emptied",
     "procedures:\n- {code: dog.transfer_in, bring: []}",
     lambda c: c.entry("dog.transfer_in").bring == ()),
    ("bring null is nothing",
     "procedures:\n- {code: dog.transfer_in, bring: null}",
     lambda c: c.entry("dog.transfer_in").bring == ()),
    ("bring replaced, bring_from_abroad kept",
     "procedures:\n- {code: juki.move_in, bring: [転出証明書]}",
     lambda c: c.entry("juki.move_in").bring == ("転出証明書",)
     and c.entry("juki.move_in").what_to_bring(from_abroad=True) == PASSPORT),
    ("bring_from_abroad null: the same as bring",
     "procedures:\n- {code: juki.move_in, bring_from_abroad: null}",
     lambda c: c.entry("juki.move_in").what_to_bring(from_abroad=True)
     == c.entry("juki.move_in").bring),
    ("bring_from_abroad added",
     "procedures:\n- {code: kokuho.enroll, bring_from_abroad: [パスポート]}",
     lambda c: c.entry("kokuho.enroll").what_to_bring(from_abroad=True) == ("パスポート",)
     and c.entry("kokuho.enroll").what_to_bring() == (NUMBER,)),
    ("other entries untouched",
     "procedures:\n- {code: kaigo.enroll, bring: [印鑑]}",
     lambda c: c.entry("dog.transfer_in").bring == ("犬の鑑札", "狂犬病予防注射済票")),
    ("new entry with bring",
     "departments: {bunka: 文化振興課}\nprocedures:\n"
     "- {code: library.card, title: 図書館カード, department: bunka, events: [move_in],\n"
     "   applies_to: each_subject, reason: 住所を変更します, bring: [図書館利用カード]}",
     lambda c: c.entry("library.card").bring == ("図書館利用カード",)),
    ("new entry without bring",
     "departments: {bunka: 文化振興課}\nprocedures:\n"
     "- {code: library.card, title: 図書館カード, department: bunka, events: [move_in],\n"
     "   applies_to: each_subject, reason: 住所を変更します}",
     lambda c: c.entry("library.card").bring == ()
     and c.entry("library.card").what_to_bring(from_abroad=True) == ()),
]  # fmt: skip


@pytest.mark.parametrize(("text", "check"), [c[1:] for c in GOOD], ids=[c[0] for c in GOOD])
def test_good_guidance_is_accepted(text, check):
    catalogue = build(text)
    assert check(catalogue)
    # the default catalogue (built once per process) is never changed by an override
    assert default_catalogue().places["shimin"] == "本庁舎1階 1〜4番窓口"
    assert default_catalogue().entry("kaigo.enroll").bring == ()


# (case id, override file, the expected start of one error)
BAD = [
    ("unknown department",
     "places: {nowhere: 別館1階}",
     "places.nowhere: 未知の課 'nowhere'（既知の課: shimin, "),
    ("department added elsewhere only",
     "places: {bunka: 別館3階}",
     "places.bunka: 未知の課 'bunka'"),
    ("empty place", "places: {shimin: ''}", f"places.shimin: {NOT_TEXT}"),
    ("blank place", "places: {shimin: '   '}", f"places.shimin: {NOT_TEXT}"),
    ("null place", "places: {shimin: null}", f"places.shimin: {NOT_TEXT}"),
    ("number place", "places: {shimin: 12}", f"places.shimin: {NOT_TEXT}"),
    ("list place", "places: {shimin: [本庁舎]}", f"places.shimin: {NOT_TEXT}"),
    ("place too long",
     f"places: {{shimin: {'あ' * (MAX_TEXT + 1)}}}",
     f"places.shimin: {MAX_TEXT}文字以内で書いてください"),
    ("places a list", "places: [shimin]", NOT_MAP),
    ("places a string", "places: 本庁舎", NOT_MAP),
    ("bring a string",
     "procedures:\n- {code: kaigo.enroll, bring: 印鑑}",
     "procedures[0] (kaigo.enroll): bring: 持ち物を文字列のリストで書いてください"),
    ("bring a mapping",
     "procedures:\n- {code: kaigo.enroll, bring: {a: b}}",
     "procedures[0] (kaigo.enroll): bring: 持ち物を文字列のリストで書いてください"),
    ("bring with an empty string",
     "procedures:\n- {code: kaigo.enroll, bring: [印鑑, '']}",
     "procedures[0] (kaigo.enroll): bring[1]: 空でない文字列で書いてください"),
    ("bring with a number",
     "procedures:\n- {code: kaigo.enroll, bring: [3]}",
     "procedures[0] (kaigo.enroll): bring[0]: 空でない文字列で書いてください"),
    ("bring with a null",
     "procedures:\n- {code: kaigo.enroll, bring: [null]}",
     "procedures[0] (kaigo.enroll): bring[0]: 空でない文字列で書いてください"),
    ("bring item too long",
     f"procedures:\n- {{code: kaigo.enroll, bring: [{'い' * (MAX_TEXT + 1)}]}}",
     f"procedures[0] (kaigo.enroll): bring[0]: {MAX_TEXT}文字以内で書いてください"),
    ("bring_from_abroad a string",
     "procedures:\n- {code: juki.move_in, bring_from_abroad: パスポート}",
     "procedures[0] (juki.move_in): bring_from_abroad: 持ち物を文字列のリストで書いてください"),
    ("bring_from_abroad with an empty string",
     "procedures:\n- {code: juki.move_in, bring_from_abroad: ['']}",
     "procedures[0] (juki.move_in): bring_from_abroad[0]: 空でない文字列で書いてください"),
    ("bring in a variant",
     "procedures:\n- code: kaigo.certificate_transfer\n  variants: {move_out: {bring: [印鑑]}}",
     "procedures[0] (kaigo.certificate_transfer): variants.move_out: 未知の項目 bring"),
    ("misspelt field",
     "procedures:\n- {code: kaigo.enroll, brings: [印鑑]}",
     "procedures[0] (kaigo.enroll): 未知の項目 brings"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_guidance_is_refused_naming_the_entry(text, expected):
    errors = errors_of(text)
    assert any(error.startswith(expected) for error in errors), errors


def test_every_guidance_problem_is_reported_places_first():
    errors = errors_of(
        "places: {nowhere: 別館, shimin: ''}\n"
        "procedures:\n"
        "- {code: kaigo.enroll, bring: ['']}\n"
        "- {code: dog.transfer_in, bring: 犬}\n"
    )
    assert [e.split(":")[0] for e in errors] == [
        "places.shimin",
        "places.nowhere",
        "procedures[0] (kaigo.enroll)",
        "procedures[1] (dog.transfer_in)",
    ]


def test_a_broken_default_place_is_refused():
    document = {**default_document(), "places": {"nowhere": "別館"}}
    with pytest.raises(CatalogueError) as info:
        build_catalogue(document)
    assert info.value.errors == [
        f"places.nowhere: 未知の課 'nowhere'（既知の課: {', '.join(NINE)}）"
    ]


@pytest.mark.django_db(databases="__all__")
def test_the_upload_refuses_a_bad_place_and_saves_nothing(make_staff, municipality_a):
    admin = make_staff(municipality_a, ("shimin", "municipality_admin"))
    with tenant_context("131016"):
        with pytest.raises(ValidationError) as info:
            services.catalogue_upload(text="places: {nowhere: 別館}\n", actor=admin, comment="x")
        assert info.value.messages[0].startswith("places.nowhere: 未知の課 'nowhere'")
        assert not CatalogueVersion.objects.exists()
        version = services.catalogue_upload(
            text="places: {shimin: 別館1階}\n", actor=admin, comment="窓口の移転"
        )
        assert version.version == 1


def test_the_documented_example_file_is_valid():
    """docs/counter.md "The file format": the example a municipality copies."""
    docs = Path(__file__).resolve().parents[4] / "docs" / "counter.md"
    example = re.search(r"```yaml\n(# 千代田区.*?)```", docs.read_text(encoding="utf-8"), re.S)
    assert example is not None
    catalogue = build(example[1])
    assert catalogue.places["shimin"] == "新庁舎1階 1〜3番窓口"
    assert catalogue.places["bunka"] == "別館2階"
    assert catalogue.entry("seal.register").bring[0] == "登録する印鑑"
    assert catalogue.entry("juki.move_in").what_to_bring(from_abroad=True)[1].startswith("在留")
    assert catalogue.entry("library.card").bring == ("図書館利用カード",)
