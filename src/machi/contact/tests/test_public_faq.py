"""The resident's FAQ pages: search in everyday Japanese, categories, one answer per
page with 役に立った／役に立たなかった (once per browser session), drafts never shown,
another municipality's answer not found, answers sanitised."""

from __future__ import annotations

import pytest
from django.test import Client

from machi.contact.models import FaqAnswer, FaqCategory, FaqFeedback, FaqSearch, FaqStatus
from machi.contact.services.faq import faq_answer_save, faq_load_default
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

FAQ = "/131016/faq/"


@pytest.fixture
def faq(in_a):
    faq_load_default()
    category = FaqCategory.objects.get(code="koseki-juminhyo")
    draft = faq_answer_save(
        category=category, question="住民票の下書きの質問", answer="まだ公開しない回答",
        keywords="住民票", status=FaqStatus.DRAFT, actor=None,
    )  # fmt: skip
    return {"juminhyo": FaqAnswer.objects.get(question="住民票の写しの請求"), "draft": draft}


def test_search_finds_the_everyday_question(faq, client: Client):
    page = client.get(FAQ, {"q": "住民票を取りたい"})
    assert page.status_code == 200
    html = page.content.decode()
    first = html.index("cc-hits")
    assert html.index("住民票の写しの請求", first) < html.index("</ol>", first)
    assert "住民票の下書きの質問" not in html
    logged = FaqSearch.objects.get()
    assert (logged.query, logged.source, logged.ticket_id) == ("住民票を取りたい", "resident", None)
    assert logged.result_ids[0] == faq["juminhyo"].pk
    # the same page again (reload) is the same search
    client.get(FAQ, {"q": "住民票を取りたい"})
    assert FaqSearch.objects.count() == 1


def test_a_query_without_answers(faq, client: Client):
    page = client.get(FAQ, {"q": "xyzzy"})
    assert page.status_code == 200
    assert "当てはまる回答が見つかりませんでした" in page.content.decode()
    assert FaqSearch.objects.get().result_count == 0


def test_too_long_a_query_names_the_field(faq, client: Client):
    page = client.get(FAQ, {"q": "あ" * 201})
    assert page.status_code == 400
    html = page.content.decode()
    assert "知りたいことは 200 文字以内で入力してください。" in html
    assert 'aria-describedby="id_q_error"' in html and 'aria-invalid="true"' in html
    assert not FaqSearch.objects.exists()


def test_categories_list_published_answers_only(faq, client: Client):
    html = client.get(FAQ).content.decode()
    assert "住民票・戸籍・証明書" in html and "住民票の写しの請求" in html
    assert "住民票の下書きの質問" not in html


def test_drafts_and_other_municipalities_answers_are_404(faq, client: Client):
    assert client.get(f"{FAQ}{faq['juminhyo'].pk}/").status_code == 200
    assert client.get(f"{FAQ}{faq['draft'].pk}/").status_code == 404
    assert client.post(f"{FAQ}{faq['draft'].pk}/feedback/", {"helped": "1"}).status_code == 404
    with tenant_context("271403"):
        faq_load_default()
        sakai_only = faq_answer_save(
            category=FaqCategory.objects.first(), question="堺市だけの質問",
            answer="堺市の回答", status=FaqStatus.PUBLISHED, actor=None,
        )  # fmt: skip
    # an id that exists in 堺市's database only
    beyond = max(FaqAnswer.objects.order_by("-pk").first().pk, sakai_only.pk) + 1
    with tenant_context("271403"):
        FaqAnswer.objects.filter(pk=sakai_only.pk).update(id=beyond)
    assert client.get(f"/271403/faq/{beyond}/").status_code == 200
    assert client.get(f"{FAQ}{beyond}/").status_code == 404
    assert client.post(f"{FAQ}{beyond}/feedback/", {"helped": "1"}).status_code == 404


def test_feedback_is_recorded_once_per_session(faq, client: Client):
    answer = faq["juminhyo"]
    client.get(FAQ, {"q": "住民票を取りたい"})
    search = FaqSearch.objects.get()
    page = client.get(f"{FAQ}{answer.pk}/", {"s": search.pk})
    assert f'name="search" value="{search.pk}"' in page.content.decode()
    done = client.post(f"{FAQ}{answer.pk}/feedback/", {"helped": "1", "search": search.pk},
                       follow=True)  # fmt: skip
    assert "評価をありがとうございました。" in done.content.decode()
    assert "「役に立った」と評価しました" in done.content.decode()
    again = client.post(f"{FAQ}{answer.pk}/feedback/", {"helped": "0"}, follow=True)
    assert "この回答の評価はすでに受け付けています。" in again.content.decode()
    answer.refresh_from_db()
    assert (answer.helped_count, answer.not_helped_count) == (1, 0)
    vote = FaqFeedback.objects.get()
    assert (vote.helped, vote.source, vote.search_id) == (True, "resident", search.pk)
    # another browser votes too
    Client().post(f"{FAQ}{answer.pk}/feedback/", {"helped": "0"})
    answer.refresh_from_db()
    assert (answer.helped_count, answer.not_helped_count) == (1, 1)


def test_feedback_needs_csrf_and_a_choice(faq):
    answer = faq["juminhyo"]
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(f"{FAQ}{answer.pk}/feedback/", {"helped": "1"}).status_code == 403
    client = Client()
    page = client.post(f"{FAQ}{answer.pk}/feedback/", {"helped": "maybe"}, follow=True)
    assert "「役に立った」か「役に立たなかった」を選んでください。" in page.content.decode()
    assert not FaqFeedback.objects.exists()


def test_answers_are_sanitised(faq, client: Client):
    category = FaqCategory.objects.first()
    answer = faq_answer_save(
        category=category, question="危ない回答",
        answer='**太字**と<script>alert(1)</script>と[リンク](javascript:alert(1))',
        status=FaqStatus.PUBLISHED, actor=None,
    )  # fmt: skip
    html = client.get(f"{FAQ}{answer.pk}/").content.decode()
    body = html[html.index("cc-answer-body") : html.index("</article>")]
    assert "<strong>太字</strong>" in body
    assert "<script>" not in body and "&lt;script&gt;" in body  # shown as text, never run
    assert 'href="javascript' not in body


def test_language_switch_keeps_the_page(faq, client: Client):
    response = client.get(FAQ, {"q": "住民票", "lang": "en"})
    assert response.status_code == 302 and response.url == f"{FAQ}?q=%E4%BD%8F%E6%B0%91%E7%A5%A8"
    assert response.cookies["django_language"].value == "en"
    page = client.get(response.url)
    assert '<html lang="en">' in page.content.decode()


def test_the_index_and_search_run_a_constant_number_of_queries(faq, client: Client):
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from machi.tenancy.context import tenant_alias

    def count(params: dict) -> int:
        with CaptureQueriesContext(connections[tenant_alias("131016")]) as captured:
            assert client.get(FAQ, params).status_code == 200
        return len(captured)

    index, search = count({}), count({"q": "住民票を取りたい"})
    category = FaqCategory.objects.first()
    for n in range(10):
        faq_answer_save(category=category, question=f"住民票の追加の質問 {n}",
                        answer="住民票の回答", status=FaqStatus.PUBLISHED, actor=None)  # fmt: skip
    assert count({}) == index
    assert count({"q": "住民票がほしい"}) == search
