"""The FAQ knowledge base: answers (draft / published), their search index, feedback
(役に立った／立たなかった), the search log and the default set.

The index: every answer keeps its search terms (``search_title``, ``search_keywords``,
``search_body``, see :mod:`machi.contact.search`). On SQLite the published answers'
terms are also in the FTS5 table ``contact_faq_fts`` (``tokenize='trigram'``); on
PostgreSQL the columns have pg_trgm GIN indexes (migration 0002).
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import PermissionDenied
from django.db import connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from machi.accounts.roles import Role
from machi.audit.services import Terminal, audit_append
from machi.contact import search
from machi.contact.models import (
    FaqAnswer,
    FaqCategory,
    FaqFeedback,
    FaqSearch,
    FaqStatus,
    FaqSynonym,
)
from machi.contact.services.tickets import TicketError, staff_may_work_tickets
from machi.tenancy.context import current_lg_code, current_tenant_alias

DEFAULT_SET = Path(__file__).resolve().parent.parent / "data" / "faq_default.yaml"
FTS_TABLE = "contact_faq_fts"


def _require_editor(actor: Any) -> None:
    municipality = getattr(actor, "municipality", None)
    if (
        municipality is None
        or municipality.lg_code != current_lg_code()
        or not actor.has_role(Role.SUPERVISOR, Role.DEPARTMENT_STAFF, Role.MUNICIPALITY_ADMIN)
    ):
        raise PermissionDenied(_("FAQを編集する権限がありません。"))


def _using() -> str:
    return current_tenant_alias()


def faq_index(answer: FaqAnswer) -> None:
    """Derive the answer's search terms and put it in (or take it out of) the index."""
    answer.search_title = search.as_field(search.terms_of(answer.question))
    answer.search_keywords = search.as_field(search.terms_of(answer.keywords.replace(",", " ")))
    answer.search_body = search.as_field(search.terms_of(answer.answer))
    answer.search_readings = " ".join(
        search.readings_of(f"{answer.question} {answer.keywords} {answer.answer}")
    )


def _fts_sync(answers: list[FaqAnswer]) -> None:
    connection = connections[_using()]
    if connection.vendor != "sqlite" or not answers:
        return
    with connection.cursor() as cursor:
        cursor.executemany(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [(a.pk,) for a in answers])  # noqa: S608
        rows = [
            (a.pk, a.search_title, a.search_keywords, a.search_body)
            for a in answers
            if a.status == FaqStatus.PUBLISHED
        ]
        cursor.executemany(
            f"INSERT INTO {FTS_TABLE}(rowid, title, keywords, body) VALUES (%s, %s, %s, %s)",  # noqa: S608
            rows,
        )


def faq_answer_save(
    *,
    category: FaqCategory,
    question: str,
    answer: str,
    actor: Any | None,
    keywords: str = "",
    department: str = "",
    status: str = FaqStatus.DRAFT,
    review_on: datetime.date | None = None,
    instance: FaqAnswer | None = None,
    terminal: Terminal | None = None,
) -> FaqAnswer:
    """Create or edit an answer; published answers are searchable at once."""
    if actor is not None:
        _require_editor(actor)
    question, answer = (question or "").strip(), (answer or "").strip()
    if not question or not answer:
        raise TicketError(_("質問と回答を入力してください。"))
    if status not in FaqStatus.values:
        raise TicketError(_("状態が正しくありません。"))
    item = instance or FaqAnswer()
    item.category, item.question, item.answer = category, question, answer
    item.keywords, item.department, item.status, item.review_on = (
        keywords.strip(), department, status, review_on,
    )  # fmt: skip
    item.full_clean(exclude=["search_title", "search_keywords", "search_body", "search_readings"])
    faq_index(item)
    with transaction.atomic(using=_using()):
        item.save()
        _fts_sync([item])
        if actor is not None:
            audit_append(action="contact.faq.saved", actor=actor, object_type="faq",
                         object_id=str(item.pk), function="contact.faq_answer_save",
                         terminal=terminal, detail={"status": status})  # fmt: skip
    return item


def faq_reindex() -> int:
    """Rebuild every answer's terms and the index (after a dictionary upgrade)."""
    answers = list(FaqAnswer.objects.all())
    for item in answers:
        faq_index(item)
    with transaction.atomic(using=_using()):
        FaqAnswer.objects.bulk_update(
            answers, ["search_title", "search_keywords", "search_body", "search_readings"],
            batch_size=500,
        )  # fmt: skip
        _fts_sync(answers)
    return len(answers)


def faq_feedback(
    *, answer: FaqAnswer, helped: bool, source: str, search_id: int | None = None
) -> FaqFeedback:
    """役に立った (helped) or 立たなかった, from a resident or an agent."""
    if source not in ("resident", "agent"):
        raise TicketError(_("評価の送り手が正しくありません。"))
    if answer.status != FaqStatus.PUBLISHED:
        raise TicketError(_("公開されていないFAQです。"))
    with transaction.atomic(using=_using()):
        from django.db.models import F

        field = "helped_count" if helped else "not_helped_count"
        FaqAnswer.objects.filter(pk=answer.pk).update(**{field: F(field) + 1})
        search_ref = FaqSearch.objects.filter(pk=search_id).first() if search_id else None
        return FaqFeedback.objects.create(
            answer=answer, helped=bool(helped), source=source, search=search_ref,
            created_at=timezone.now(),
        )  # fmt: skip


def faq_search_log(*, query: str, source: str, result_ids: list[int]) -> FaqSearch:
    """Log one search (the query as typed, cut to 200 characters; no one's identity)."""
    return FaqSearch.objects.create(
        query=query.strip()[:200], source=source, result_ids=result_ids,
        result_count=len(result_ids), created_at=timezone.now(),
    )  # fmt: skip


def faq_search_revise(*, search_id: int, query: str, result_ids: list[int]) -> FaqSearch | None:
    """The resident goes on typing the same question (the contact form's suggestions):
    the search of that form is revised, not logged again, so that one question counts
    once for deflection. None when the search is gone or a ticket already followed it."""
    updated = FaqSearch.objects.filter(pk=search_id, source="resident", ticket__isnull=True).update(
        query=query.strip()[:200], result_ids=result_ids, result_count=len(result_ids)
    )
    return FaqSearch.objects.filter(pk=search_id).first() if updated else None


def faq_synonym_add(*, words: str, actor: Any, terminal: Terminal | None = None) -> FaqSynonym:
    _require_editor(actor)
    group = words.replace("、", " ").replace(",", " ").split()
    if len(group) < 2:
        raise TicketError(_("同義語は2語以上、空白で区切って入力してください。"))
    with transaction.atomic(using=_using()):
        synonym = FaqSynonym.objects.create(words=" ".join(group)[:500])
        audit_append(action="contact.faq.synonym_added", actor=actor, object_type="faq_synonym",
                     object_id=str(synonym.pk), function="contact.faq_synonym_add",
                     terminal=terminal)  # fmt: skip
    return synonym


def faq_synonym_delete(
    *, synonym: FaqSynonym, actor: Any, terminal: Terminal | None = None
) -> None:
    _require_editor(actor)
    with transaction.atomic(using=_using()):
        pk = synonym.pk
        synonym.delete()
        audit_append(action="contact.faq.synonym_deleted", actor=actor, object_type="faq_synonym",
                     object_id=str(pk), function="contact.faq_synonym_delete",
                     terminal=terminal)  # fmt: skip


def faq_load_default(*, path: Path = DEFAULT_SET) -> int:
    """Load the default FAQ set (categories and published answers) when the
    municipality has none yet; returns the number of answers loaded."""
    if FaqAnswer.objects.exists():
        return 0
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    answers = []
    with transaction.atomic(using=_using()):
        for order, entry in enumerate(data["categories"]):
            category, _created = FaqCategory.objects.get_or_create(
                code=entry["code"], defaults={"name": entry["name"], "order": order}
            )
            for item in entry["answers"]:
                answers.append(
                    faq_answer_save(
                        category=category, question=item["q"], answer=item["a"],
                        keywords=item.get("keywords", ""), department=entry.get("department", ""),
                        status=FaqStatus.PUBLISHED, actor=None,
                    )
                )  # fmt: skip
    return len(answers)


def staff_may_search_faq(staff: Any) -> bool:
    return staff_may_work_tickets(staff)
