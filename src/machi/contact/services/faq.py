"""The FAQ knowledge base: answers (draft / published), their search index, feedback
(役に立った／立たなかった), the search log and the default set.

The index: every answer keeps its search terms (``search_title``, ``search_keywords``,
``search_body``, see :mod:`machi.contact.search`). On SQLite the published answers'
terms are also in the FTS5 table ``contact_faq_fts`` (``tokenize='trigram'``); on
PostgreSQL the columns have pg_trgm GIN indexes (migration 0002). The search itself
reads an in-memory copy (:mod:`machi.contact.faq_index`): every change of what it
indexes (a published answer, a synonym) writes a new version token through
:func:`faq_index_changed`, in the same transaction, so that every process rebuilds it.
"""

from __future__ import annotations

import datetime
import re
import uuid
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
    FaqIndexVersion,
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


def faq_index_changed() -> None:
    """What the FAQ search indexes changed (published answers, synonyms): a new version
    token, so every process builds its in-memory index again at its next search. Call it
    inside the transaction of the change; writes that bypass these services (a bulk
    load) call it too."""
    token, now = uuid.uuid4().hex, timezone.now()
    with transaction.atomic(using=_using()):
        if not FaqIndexVersion.objects.filter(pk=1).update(token=token, changed_at=now):
            # the first change: two processes may insert at once, one row wins
            FaqIndexVersion.objects.bulk_create(
                [FaqIndexVersion(pk=1, token=token, changed_at=now)], ignore_conflicts=True
            )
            FaqIndexVersion.objects.filter(pk=1).update(token=token, changed_at=now)


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
        # A draft that stays a draft changes nothing the search sees.
        was_published = item.pk is not None and (
            FaqAnswer.objects.filter(pk=item.pk, status=FaqStatus.PUBLISHED).exists()
        )
        item.save()
        _fts_sync([item])
        if was_published or status == FaqStatus.PUBLISHED:
            faq_index_changed()
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
        faq_index_changed()
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
        faq_index_changed()
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
        faq_index_changed()
        audit_append(action="contact.faq.synonym_deleted", actor=actor, object_type="faq_synonym",
                     object_id=str(pk), function="contact.faq_synonym_delete",
                     terminal=terminal)  # fmt: skip


def faq_load_default(
    *,
    path: Path = DEFAULT_SET,
    status: str = FaqStatus.PUBLISHED,
    actor: Any | None = None,
    terminal: Terminal | None = None,
) -> int:
    """Load the default FAQ set (categories and answers) when the municipality has
    none yet; returns the number of answers loaded. Staff load it as drafts from FAQ の
    管理: its fees, places and hours are generic until the municipality checks them."""
    if actor is not None:
        _require_editor(actor)
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
                        status=status, actor=actor, terminal=terminal,
                    )
                )  # fmt: skip
    return len(answers)


def staff_may_search_faq(staff: Any) -> bool:
    return staff_may_work_tickets(staff)


# ---------------------------------------------------------------- categories

CATEGORY_NAME_MAX = FaqCategory._meta.get_field("name").max_length
CATEGORY_CODE_MAX = FaqCategory._meta.get_field("code").max_length


def _category_audit(
    category: FaqCategory, verb: str, actor: Any, terminal: Terminal | None, **detail: Any
) -> None:
    audit_append(action=f"contact.faq.category_{verb}", actor=actor, object_type="faq_category",
                 object_id=category.code, function=f"contact.faq_category_{verb}",
                 terminal=terminal, detail=detail)  # fmt: skip


def _category_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise TicketError(_("分類名を入力してください。"))
    if len(name) > CATEGORY_NAME_MAX:
        raise TicketError(
            _("分類名は %(max)s 文字以内にしてください。") % {"max": CATEGORY_NAME_MAX}
        )
    return name


def faq_category_create(
    *, code: str, name: str, actor: Any, terminal: Terminal | None = None
) -> FaqCategory:
    """A new category, last in the order. The code names it in tickets (分類) and
    filters: lower-case letters, digits and hyphens, unique."""
    _require_editor(actor)
    code = (code or "").strip()
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", code) or len(code) > CATEGORY_CODE_MAX:
        raise TicketError(
            _("分類コードは半角英小文字・数字・ハイフンで %(max)s 文字以内にしてください。")
            % {"max": CATEGORY_CODE_MAX}
        )
    name = _category_name(name)
    with transaction.atomic(using=_using()):
        if FaqCategory.objects.filter(code=code).exists():
            raise TicketError(_("分類コード「%(code)s」はすでに使われています。") % {"code": code})
        last = FaqCategory.objects.order_by("-order").values_list("order", flat=True).first()
        category = FaqCategory.objects.create(code=code, name=name, order=(last or 0) + 1)
        _category_audit(category, "created", actor, terminal, name=name)
    return category


def faq_category_rename(
    *, category: FaqCategory, name: str, actor: Any, terminal: Terminal | None = None
) -> FaqCategory:
    _require_editor(actor)
    name = _category_name(name)
    with transaction.atomic(using=_using()):
        category = FaqCategory.objects.select_for_update().get(pk=category.pk)
        if category.name == name:
            raise TicketError(_("分類名が変わっていません。"))
        previous = category.name
        category.name = name
        category.save(update_fields=["name"])
        _category_audit(category, "renamed", actor, terminal, previous=previous, name=name)
    return category


def faq_category_move(
    *, category: FaqCategory, up: bool, actor: Any, terminal: Terminal | None = None
) -> FaqCategory:
    """One place up or down; the order is renumbered 1, 2, 3 … on the way, so equal
    orders (the default set's, or rows made by hand) move predictably."""
    _require_editor(actor)
    with transaction.atomic(using=_using()):
        ordered = list(FaqCategory.objects.select_for_update().order_by("order", "id"))
        index = next(i for i, item in enumerate(ordered) if item.pk == category.pk)
        other = index - 1 if up else index + 1
        if not 0 <= other < len(ordered):
            raise TicketError(
                _("この分類はすでに先頭です。") if up else _("この分類はすでに最後です。")
            )
        ordered[index], ordered[other] = ordered[other], ordered[index]
        for position, item in enumerate(ordered, start=1):
            item.order = position
        FaqCategory.objects.bulk_update(ordered, ["order"])
        moved = ordered[other]
        _category_audit(moved, "moved", actor, terminal, order=moved.order)
    return moved


def faq_category_delete(
    *, category: FaqCategory, actor: Any, terminal: Terminal | None = None
) -> None:
    """Delete an empty category; one that still holds answers (draft ones too) is
    refused with their number, nothing deleted."""
    _require_editor(actor)
    with transaction.atomic(using=_using()):
        category = FaqCategory.objects.select_for_update().get(pk=category.pk)
        count = category.answers.count()
        if count:
            raise TicketError(
                _("分類「%(name)s」には FAQ が %(count)s 件あるため削除できません。"
                  "先に FAQ をほかの分類に移してください。")
                % {"name": category.name, "count": count}
            )  # fmt: skip
        _category_audit(category, "deleted", actor, terminal, name=category.name)
        category.delete()
