"""The FAQ search's in-memory term index: built once per municipality and process,
built again when the version token in the database changes (every FAQ service that
changes what the search sees writes one), never shared between municipalities, and a
search with a warm index costs two queries."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from machi.contact import faq_index
from machi.contact.faq_index import current_token, term_index_forget
from machi.contact.models import FaqAnswer, FaqCategory, FaqIndexVersion, FaqStatus, FaqSynonym
from machi.contact.selectors import faq_search
from machi.contact.services.faq import (
    faq_answer_save,
    faq_index_changed,
    faq_load_default,
    faq_reindex,
    faq_synonym_add,
    faq_synonym_delete,
)
from machi.tenancy.context import current_tenant_alias, tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture(autouse=True)
def fresh_process():
    """Each test starts like a newly started worker (no index in memory)."""
    term_index_forget()
    yield
    term_index_forget()


@pytest.fixture
def faq(in_a):
    faq_load_default()
    return FaqCategory.objects.get(code="other")


@pytest.fixture
def editor(make_staff, municipality_a):
    return make_staff(municipality_a, ("kankyo", "department_staff"))


def questions(query: str) -> list[str]:
    return [hit.answer.question for hit in faq_search(query=query)]


def save(item: FaqAnswer, **changes) -> FaqAnswer:
    values = {
        "category": item.category, "question": item.question, "answer": item.answer,
        "keywords": item.keywords, "status": item.status, **changes,
    }  # fmt: skip
    return faq_answer_save(instance=item, actor=None, **values)


class OtherProcess:
    """What another worker process does: its own memory (no index), the same database.
    Inside the block this process's indexes are put aside and given back after, as
    they were: the first process then searches with the index it built before."""

    def __enter__(self):
        with faq_index._lock:
            self.saved = dict(faq_index._cache)
        term_index_forget()
        return self

    def __exit__(self, *exc):
        with faq_index._lock:
            faq_index._cache.clear()
            faq_index._cache.update(self.saved)


def test_publish_unpublish_and_edit_are_seen_by_the_next_search(faq) -> None:
    assert "ペットの登録" not in questions("犬の登録")  # the index is built and kept
    pet = faq_answer_save(
        category=faq, question="ペットの登録", answer="犬を飼い始めたら登録してください。",
        keywords="犬 ペット", actor=None,
    )  # fmt: skip
    assert "ペットの登録" not in questions("犬の登録")  # a draft
    pet = save(pet, status=FaqStatus.PUBLISHED)
    assert questions("犬の登録")[0] == "ペットの登録"
    pet = save(pet, question="飼い犬の登録", answer="飼い犬は登録してください。", keywords="")
    assert questions("飼い犬")[0] == "飼い犬の登録"
    assert "ペットの登録" not in questions("犬の登録")
    assert "飼い犬の登録" not in questions("ペット")  # the old keyword is gone
    save(pet, status=FaqStatus.DRAFT)
    assert "飼い犬の登録" not in questions("飼い犬")


def test_a_change_made_by_another_process_is_seen(faq) -> None:
    juminhyo = FaqAnswer.objects.get(question="住民票の写しの請求")
    assert questions("住民票を取りたい")[0] == "住民票の写しの請求"  # this process's index
    with OtherProcess():
        save(juminhyo, status=FaqStatus.DRAFT)
        assert "住民票の写しの請求" not in questions("住民票を取りたい")
    assert "住民票の写しの請求" not in questions("住民票を取りたい")
    with OtherProcess():
        save(juminhyo, status=FaqStatus.PUBLISHED, keywords="りんご")
    assert questions("りんご") == ["住民票の写しの請求"]


def test_synonyms_added_and_deleted_are_seen(faq, editor) -> None:
    assert questions("がらくた") == []
    synonym = faq_synonym_add(words="粗大ごみ がらくた", actor=editor)
    assert questions("がらくた")[0] == "粗大ごみの出し方"
    with OtherProcess():
        faq_synonym_delete(synonym=synonym, actor=editor)
    assert questions("がらくた") == []
    assert not FaqSynonym.objects.exists()


def test_a_fresh_process_builds_the_same_index_without_a_new_version(faq) -> None:
    before = {q: questions(q) for q in ("住民票を取りたい", "そだいごみ", "ｼﾞｭｳﾐﾝﾋｮｳ")}
    token = current_token(current_tenant_alias())
    assert token
    term_index_forget()
    assert {q: questions(q) for q in before} == before
    assert current_token(current_tenant_alias()) == token  # searching writes nothing


def test_the_version_decides_not_the_data(faq) -> None:
    """The index is reused while the token stands, and only the token: a write that
    bypasses the services is seen once faq_index_changed() is called."""
    assert questions("住民票を取りたい")[0] == "住民票の写しの請求"
    FaqAnswer.objects.filter(question="住民票の写しの請求").update(search_title=" りんご ")
    assert questions("住民票を取りたい")[0] == "住民票の写しの請求"  # the kept index
    assert "住民票の写しの請求" not in questions("りんご")
    faq_index_changed()
    assert questions("りんご") == ["住民票の写しの請求"]


def test_only_changes_the_search_sees_write_a_version(faq) -> None:
    alias = current_tenant_alias()
    draft = faq_answer_save(category=faq, question="下書き", answer="まだ", actor=None)
    token = current_token(alias)
    save(draft, answer="まだ下書き")  # a draft stays a draft
    assert current_token(alias) == token
    save(draft, status=FaqStatus.PUBLISHED)
    published = current_token(alias)
    assert published != token
    save(draft, status=FaqStatus.DRAFT)  # withdrawn: the search must forget it
    assert current_token(alias) not in (token, published)
    before = current_token(alias)
    assert faq_reindex() == FaqAnswer.objects.count()
    assert current_token(alias) != before
    assert FaqIndexVersion.objects.count() == 1


def test_a_rolled_back_change_leaves_no_reusable_version(faq) -> None:
    from django.db import transaction

    alias = current_tenant_alias()
    juminhyo = FaqAnswer.objects.get(question="住民票の写しの請求")
    token = current_token(alias)

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic(using=alias):
        save(juminhyo, keywords="りんご")
        assert questions("りんご") == ["住民票の写しの請求"]  # seen inside the transaction
        raise Undo
    assert current_token(alias) == token
    assert questions("りんご") == []  # the index of the undone change is not used


def test_two_municipalities_get_their_own_results_from_one_process(faq, municipality_b) -> None:
    faq_answer_save(
        category=faq, question="千代田区の皇居ランナー", answer="皇居の周りを走るときは…",
        keywords="皇居 ランニング", status=FaqStatus.PUBLISHED, actor=None,
    )  # fmt: skip
    assert questions("皇居") == ["千代田区の皇居ランナー"]  # 千代田区's index, in memory
    chiyoda = current_token(current_tenant_alias())
    with tenant_context("271403"):
        assert questions("皇居") == [] and questions("住民票を取りたい") == []
        category = FaqCategory.objects.create(code="sakai", name="堺市")
        kofun = faq_answer_save(
            category=category, question="堺市の古墳めぐり", answer="仁徳天皇陵古墳は…",
            keywords="古墳 百舌鳥", status=FaqStatus.PUBLISHED, actor=None,
        )  # fmt: skip
        # the same token in both databases must not mix them up either
        FaqIndexVersion.objects.update(token=chiyoda)
        assert questions("古墳") == ["堺市の古墳めぐり"]
        assert questions("皇居") == [] and questions("住民票を取りたい") == []
    assert questions("皇居") == ["千代田区の皇居ランナー"]
    assert questions("古墳") == []
    assert questions("住民票を取りたい")[0] == "住民票の写しの請求"
    with tenant_context("271403"):
        assert [h.answer.pk for h in faq_search(query="古墳")] == [kofun.pk]
    assert set(faq_index._cache) == {"131016", "271403"}


def test_a_search_costs_two_queries(faq, django_assert_max_num_queries) -> None:
    connection = connections[current_tenant_alias()]
    with CaptureQueriesContext(connection) as cold:
        assert faq_search(query="住民票を取りたい")
    assert len(cold) > 2  # the index was built
    for query in ("じゅうみんひょうをとりたい", "マイナンバーカードの暗証番号を忘れた", "粗大ごみ"):
        # the version, then the hits with their categories
        with django_assert_max_num_queries(2, connection=connection):
            hits = faq_search(query=query, limit=5)
        assert hits
        assert [h.answer.category.name for h in hits]  # no query more for the categories
    with django_assert_max_num_queries(1, connection=connection):
        assert faq_search(query="xyzzy") == []
