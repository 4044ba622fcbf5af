"""FAQ administration: list (filters, review date flag), edit (sanitised preview,
published answers searchable at once), synonyms; wrong role, other municipality and
bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from machi.audit.models import AuditEntry
from machi.contact.models import FaqAnswer, FaqCategory, FaqSynonym
from machi.contact.selectors import faq_search
from machi.contact.services.faq import faq_load_default

pytestmark = pytest.mark.django_db(databases="__all__")
A, B = "131016", "271403"


@pytest.fixture
def editor(in_a, make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "department_staff"))


@pytest.fixture
def clerk(in_a, make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "counter_clerk"))


@pytest.fixture
def faq(in_a):
    faq_load_default()
    return FaqAnswer.objects.get(question="住民票の写しの請求")


def url(name, *args, lg=A):
    return reverse(f"contact:{name}", args=[lg, *args])


def test_list_flags_answers_past_their_review_date(editor, faq, signed_in):
    faq.review_on = timezone.localdate() - dt.timedelta(days=1)
    faq.save()
    client = signed_in(editor)
    html = client.get(url("faq_list")).content.decode()
    assert "見直し期限切れ" in html and "見直し日を過ぎた FAQ が 1 件" in html
    only = client.get(url("faq_list"), {"review": "on"}).content.decode()
    assert "住民票の写しの請求" in only and "印鑑登録の手続き" not in only
    by_text = client.get(url("faq_list"), {"q": "印鑑"}).content.decode()
    assert "印鑑登録の手続き" in by_text and "住民票の写しの請求" not in by_text
    drafts = client.get(url("faq_list"), {"status": "draft"}).content.decode()
    assert "住民票の写しの請求" not in drafts


def test_new_answer_is_saved_audited_and_found_once_published(editor, faq, signed_in):
    data = {
        "category": "gomi",
        "question": "がらくたの出し方",
        "answer": "**粗大ごみ**として申し込んでください。",
        "keywords": "がらくた",
        "department": "kankyo",
        "status": "published",
        "review_on": "2027-04-01",
    }
    response = signed_in(editor).post(url("faq_new"), data)
    answer = FaqAnswer.objects.get(question="がらくたの出し方")
    assert response.status_code == 302 and response["Location"] == url("faq_edit", answer.pk)
    assert answer.review_on == dt.date(2027, 4, 1) and answer.category.code == "gomi"
    assert AuditEntry.objects.filter(action="contact.faq.saved", object_id=str(answer.pk)).exists()
    assert faq_search(query="がらくた")[0].answer == answer
    page = signed_in(editor).get(url("faq_edit", answer.pk)).content.decode()
    assert "<strong>粗大ごみ</strong>" in page


def test_edit_sanitises_the_answer_on_output(editor, faq, signed_in):
    data = {
        "category": faq.category.code,
        "question": faq.question,
        "status": "draft",
        "answer": "<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>",
    }
    assert signed_in(editor).post(url("faq_edit", faq.pk), data).status_code == 302
    html = signed_in(editor).get(url("faq_edit", faq.pk)).content.decode()
    preview = html.split('id="preview-heading"')[1]
    assert "<script>" not in preview and "<img" not in preview
    assert 'href="javascript' not in preview
    faq.refresh_from_db()
    assert faq.status == "draft"
    assert faq_search(query="住民票を取りたい")[0].answer.question != faq.question


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"question": ""}, "必須"),
        ({"answer": ""}, "必須"),
        ({"category": "nowhere"}, "正しく選択"),
        ({"status": "secret"}, "secret"),
        ({"review_on": "2027-13-40"}, "日付"),
    ],
)
def test_edit_bad_input_changes_nothing(editor, faq, signed_in, change, message):
    data = {
        "category": faq.category.code,
        "question": "変えた質問",
        "answer": "変えた回答",
        "status": "published",
        **change,
    }
    response = signed_in(editor).post(url("faq_edit", faq.pk), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    faq.refresh_from_db()
    assert faq.question == "住民票の写しの請求"


def test_synonyms_add_and_delete(editor, faq, signed_in):
    client = signed_in(editor)
    assert client.post(url("faq_synonyms"), {"words": "ぶんかい 粗大ごみ"}).status_code == 302
    synonym = FaqSynonym.objects.get()
    assert "ぶんかい 粗大ごみ" in client.get(url("faq_synonyms")).content.decode()
    response = client.post(url("faq_synonyms"), {"words": "ひとつ"})
    assert response.status_code == 400 and "2語以上" in response.content.decode()
    assert client.post(url("faq_synonym_delete", synonym.pk)).status_code == 302
    assert not FaqSynonym.objects.exists()
    assert AuditEntry.objects.filter(action="contact.faq.synonym_deleted").exists()
    assert client.post(url("faq_synonym_delete", synonym.pk)).status_code == 404


def test_faq_admin_refuses_wrong_role_and_other_municipality(
    editor, clerk, faq, make_staff, municipality_b, signed_in
):
    for name, args in (
        ("faq_list", ()),
        ("faq_new", ()),
        ("faq_edit", (faq.pk,)),
        ("faq_synonyms", ()),
    ):
        assert signed_in(clerk).get(url(name, *args)).status_code == 403
        assert signed_in(editor).get(url(name, *args, lg=B)).status_code in (403, 404)
    data = {"category": faq.category.code, "question": "x", "answer": "y", "status": "draft"}
    assert signed_in(clerk).post(url("faq_edit", faq.pk), data).status_code == 403
    assert signed_in(clerk).post(url("faq_synonyms"), {"words": "a b"}).status_code == 403
    editor_b = make_staff(municipality_b, ("shimin", "department_staff"))
    assert signed_in(editor_b).get(url("faq_edit", 999999, lg=B)).status_code == 404
    faq.refresh_from_db()
    assert faq.question == "住民票の写しの請求" and not FaqSynonym.objects.exists()
    assert FaqCategory.objects.exists()
