"""A new municipality starts its FAQ from the default set, loaded as drafts from FAQ の
管理 (no developer, no shell), never over answers it already has."""

from __future__ import annotations

import pytest
from django.urls import reverse

from machi.audit.models import AuditEntry
from machi.contact.models import FaqAnswer, FaqStatus
from machi.contact.selectors import faq_search
from machi.contact.services.faq import faq_load_default

pytestmark = pytest.mark.django_db(databases="__all__")
A, B = "131016", "271403"


def url(name, lg=A):
    return reverse(f"contact:{name}", args=[lg])


@pytest.fixture
def editor(in_a, make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "department_staff"))


def test_an_empty_faq_offers_the_default_set_and_loads_it_as_audited_drafts(editor, signed_in):
    client = signed_in(editor)
    assert "標準の FAQ を下書きとして読み込む" in client.get(url("faq_list")).content.decode()

    response = client.post(url("faq_default_load"), follow=True)

    html = response.content.decode()
    assert "標準の FAQ 44 件を下書きとして読み込みました" in html
    assert "標準の FAQ を下書きとして読み込む" not in html  # offered only while empty
    assert FaqAnswer.objects.count() == 44
    assert set(FaqAnswer.objects.values_list("status", flat=True)) == {FaqStatus.DRAFT}
    assert faq_search(query="住民票を取りたい") == []  # drafts are not shown to residents
    saved = AuditEntry.objects.filter(action="contact.faq.saved", actor_username=editor.username)
    assert saved.count() == 44


def test_the_default_set_is_never_loaded_over_existing_answers(editor, signed_in, in_a):
    faq_load_default()
    before = sorted(FaqAnswer.objects.values_list("id", "status"))
    response = signed_in(editor).post(url("faq_default_load"), follow=True)
    assert "FAQ がすでにあるため" in response.content.decode()
    assert sorted(FaqAnswer.objects.values_list("id", "status")) == before


def test_only_editors_of_the_municipality_load_it(
    in_a, make_staff, municipality_a, municipality_b, signed_in
):
    clerk = make_staff(municipality_a, ("shimin", "counter_clerk"))
    assert signed_in(clerk).post(url("faq_default_load")).status_code == 403
    other = make_staff(municipality_b, ("shimin", "department_staff"))
    assert signed_in(other).post(url("faq_default_load")).status_code in (403, 404)
    editor = make_staff(municipality_a, ("shimin", "department_staff"))
    assert signed_in(editor).get(url("faq_default_load")).status_code == 405
    assert not FaqAnswer.objects.exists()
