"""Reads on public comments: the public list and page, the staff's list and comments."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from machi.publiccomment.models import Comment, CommentGroup, Consultation, Document

DOCUMENT_FIELDS = ("id", "consultation_id", "title", "filename", "size", "added_at")


def _documents() -> Prefetch:
    # Never the PDFs' bytes on a list or a page: only their names and sizes.
    return Prefetch("documents", queryset=Document.objects.only(*DOCUMENT_FIELDS))


def public_consultations(*, now: datetime.datetime | None = None) -> dict[str, list[Consultation]]:
    """Published consultations, open ones first (by end), then upcoming, then past (one query)."""
    now = now or timezone.now()
    found = Consultation.objects.filter(published_at__isnull=False).defer("summary", "result_note")
    groups: dict[str, list[Consultation]] = {"open": [], "scheduled": [], "past": []}
    for consultation in found:
        phase = consultation.phase_at(now)
        key = {"open": "open", "scheduled": "scheduled"}.get(phase, "past")
        groups[key].append(consultation)
    groups["open"].sort(key=lambda c: c.ends_at)
    groups["scheduled"].sort(key=lambda c: c.starts_at)
    return groups


def public_consultation_get(*, pk: int) -> Consultation | None:
    return (
        Consultation.objects.filter(pk=pk, published_at__isnull=False)
        .prefetch_related(_documents())
        .first()
    )


def public_document_get(*, consultation_pk: int, pk: int) -> Document | None:
    return Document.objects.filter(
        pk=pk, consultation_id=consultation_pk, consultation__published_at__isnull=False
    ).first()


@dataclass(frozen=True)
class Result:
    comments: int
    submitters: int
    groups: list[CommentGroup]


def submitter_count(*, consultation: Consultation) -> int:
    """Distinct submitters: one per (name, address) given, one per anonymous comment."""
    rows = Comment.objects.filter(consultation=consultation).values_list("name", "address")
    named = {(n.strip(), a.strip()) for n, a in rows if n.strip()}
    anonymous = sum(1 for n, _a in rows if not n.strip())
    return len(named) + anonymous


def result_get(*, consultation: Consultation) -> Result:
    """The result as published: counts and the staff-written groups (never the comments)."""
    groups = list(
        CommentGroup.objects.filter(consultation=consultation).annotate(size=Count("comments"))
    )
    return Result(
        comments=consultation.comment_count,
        submitters=submitter_count(consultation=consultation),
        groups=groups,
    )


def staff_consultations(*, departments: list[str]) -> list[Consultation]:
    """The consultations of the staff member's departments, with their comment counts."""
    return list(
        Consultation.objects.filter(department__in=departments)
        .defer("summary", "result_note")
        .annotate(ungrouped=Count("comments", filter=Q(comments__group__isnull=True)))
        .order_by("-created_at", "-id")
    )


def staff_consultation_get(*, pk: int) -> Consultation | None:
    return Consultation.objects.filter(pk=pk).prefetch_related(_documents()).first()


def staff_comments(*, consultation: Consultation) -> list[Comment]:
    return list(
        Comment.objects.filter(consultation=consultation)
        .defer("attachment")
        .select_related("group")
    )


def staff_comment_attachment(*, consultation: Consultation, pk: int) -> Comment | None:
    return (
        Comment.objects.filter(consultation=consultation, pk=pk).exclude(attachment_type="").first()
    )
