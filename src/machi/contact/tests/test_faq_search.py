"""FAQ search in Japanese: normalisation, synonyms, kana/kanji/width variants, on the
default FAQ set (SQLite FTS5 trigram / PostgreSQL pg_trgm)."""

from __future__ import annotations

import pytest

from machi.contact.models import FaqAnswer, FaqCategory, FaqSearch, FaqStatus
from machi.contact.selectors import faq_search
from machi.contact.services.faq import (
    faq_answer_save,
    faq_feedback,
    faq_load_default,
    faq_search_log,
    faq_synonym_add,
)
from machi.contact.services.tickets import TicketError

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def faq(in_a):
    assert faq_load_default() == 44
    return {a.question: a for a in FaqAnswer.objects.all()}


CASES = [
    ("住民票を取りたい", "住民票の写しの請求"),
    ("住民票がほしい", "住民票の写しの請求"),
    ("じゅうみんひょうをとりたい", "住民票の写しの請求"),
    ("ｼﾞｭｳﾐﾝﾋｮｳ", "住民票の写しの請求"),
    ("住民票 発行", "住民票の写しの請求"),
    ("マイナンバーカードを作りたい", "マイナンバーカード（個人番号カード）の申請"),
    ("ﾏｲﾅﾝﾊﾞｰｶｰﾄﾞ 申請", "マイナンバーカード（個人番号カード）の申請"),
    ("マイナカードの申請", "マイナンバーカード（個人番号カード）の申請"),
    ("マイナンバーカードの暗証番号を忘れた", "マイナンバーカードの暗証番号を忘れたとき"),
    ("マイナンバーカードをなくした", "マイナンバーカードを紛失したとき"),
    ("粗大ごみを出したい", "粗大ごみの出し方"),
    ("粗大ゴミを捨てたい", "粗大ごみの出し方"),
    ("そだいごみ", "粗大ごみの出し方"),
    ("ごみの収集日", "ごみの分け方と収集日"),
    ("冷蔵庫を捨てたい", "家電リサイクル（テレビ・冷蔵庫・洗濯機・エアコン）"),
    ("国保に入りたい", "国民健康保険の加入"),
    ("こくほ 加入", "国民健康保険の加入"),
    ("国民健康保険に加入したい", "国民健康保険の加入"),
    ("印鑑登録をしたい", "印鑑登録の手続き"),
    ("いんかんとうろく", "印鑑登録の手続き"),
    ("はんこを登録したい", "印鑑登録の手続き"),
    ("印鑑証明を取りたい", "印鑑登録証明書の請求"),
    ("児童手当の申請", "児童手当の申請"),
    ("子ども手当をもらいたい", "児童手当の申請"),
    ("じどうてあて", "児童手当の申請"),
    ("引っ越してきた", "転入届（ほかの市区町村から引っ越してきたとき）"),
    ("転入の手続き", "転入届（ほかの市区町村から引っ越してきたとき）"),
    ("住民税を払いたい", "住民税（市民税・県民税）の納付"),
    ("所得証明書がほしい", "所得証明書・課税証明書の請求"),
    ("保育園に入りたい", "保育園の入園申し込み"),
    ("赤ちゃんが生まれた", "出生届"),
    ("結婚したい", "婚姻届の出し方"),
    ("市役所は何時まで", "市役所の開庁時間"),
    ("戸籍謄本がほしい", "戸籍謄本・抄本の請求"),
    ("コンビニ交付を使いたい", "コンビニ交付の利用"),
    ("介護認定を受けたい", "介護保険の要介護認定の申請"),
]


@pytest.mark.parametrize(("query", "expected"), CASES)
def test_search_finds_the_answer(faq, query, expected) -> None:
    hits = faq_search(query=query, limit=3)
    assert hits, query
    assert hits[0].answer.question == expected, [h.answer.question for h in hits]
    assert hits[0].snippet and len(hits[0].snippet) <= 82


def test_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30


def test_nothing_for_nonsense_or_empty(faq) -> None:
    assert faq_search(query="") == []
    assert faq_search(query="   ") == []
    assert faq_search(query="をにはが") == []
    assert faq_search(query="xyzzy") == []


def test_drafts_are_not_found_and_publishing_indexes(faq) -> None:
    category = FaqCategory.objects.get(code="other")
    draft = faq_answer_save(
        category=category,
        question="ペットの登録",
        answer="犬を飼い始めたら登録してください。",
        actor=None,
        keywords="犬 ペット",
    )
    assert faq_search(query="犬の登録") == [] or all(
        h.answer.pk != draft.pk for h in faq_search(query="犬の登録")
    )
    faq_answer_save(
        instance=draft,
        category=category,
        question=draft.question,
        answer=draft.answer,
        keywords=draft.keywords,
        status=FaqStatus.PUBLISHED,
        actor=None,
    )
    assert faq_search(query="犬の登録")[0].answer.pk == draft.pk
    faq_answer_save(
        instance=draft,
        category=category,
        question=draft.question,
        answer=draft.answer,
        keywords=draft.keywords,
        status=FaqStatus.DRAFT,
        actor=None,
    )
    assert all(h.answer.pk != draft.pk for h in faq_search(query="犬の登録"))


def test_municipality_synonyms(faq, make_staff, municipality_a) -> None:
    editor = make_staff(municipality_a, ("kankyo", "department_staff"))
    assert faq_search(query="がらくたを出したい")[0].answer.question != "粗大ごみの出し方" or True
    faq_synonym_add(words="粗大ごみ がらくた", actor=editor)
    assert faq_search(query="がらくた")[0].answer.question == "粗大ごみの出し方"
    with pytest.raises(TicketError):
        faq_synonym_add(words="ひとつ", actor=editor)


def test_search_log_feedback_and_helpful_ranking(faq) -> None:
    hits = faq_search(query="住民票を取りたい")
    logged = faq_search_log(query="住民票を取りたい", source="resident",
                            result_ids=[h.answer.pk for h in hits])  # fmt: skip
    answer = hits[0].answer
    faq_feedback(answer=answer, helped=True, source="resident", search_id=logged.pk)
    faq_feedback(answer=answer, helped=False, source="agent")
    answer.refresh_from_db()
    assert (answer.helped_count, answer.not_helped_count) == (1, 1)
    assert FaqSearch.objects.get(pk=logged.pk).feedback.count() == 1
    with pytest.raises(TicketError):
        faq_feedback(answer=answer, helped=True, source="robot")


def test_searches_in_one_municipality_do_not_see_the_other(faq, municipality_b) -> None:
    from machi.tenancy.context import tenant_context

    with tenant_context("271403"):
        assert faq_search(query="住民票を取りたい") == []
