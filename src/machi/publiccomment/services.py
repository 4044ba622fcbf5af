"""Writes on public comments: draft, documents, publish, submit, group, publish the result.

Every write is one transaction on the tenant database with its audit entry; publishing
and the result also go to the outbox (thin: ids and dates, never text or submitters).
Submitters have no account (actor None); staff must work in the consultation's
department (department staff or supervisor).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from machi.audit.services import audit_append
from machi.linkage.services import outbox_append
from machi.publiccomment.models import (
    Comment,
    CommentGroup,
    Consultation,
    Document,
    IdentityRule,
    Phase,
)
from machi.tenancy.context import current_lg_code, current_tenant_alias

PUBLISHED = "jp.machi.consultation.published"
RESULT_PUBLISHED = "jp.machi.consultation.result_published"

DEFAULT_DAYS = 30  # 行政手続法 §39 ③: 公示の日から起算して30日以上
MAX_DOCUMENT = 10 * 1024 * 1024
MAX_ATTACHMENT = 5 * 1024 * 1024
MAX_BODY = 8000
WORK_ROLES = ("department_staff", "supervisor")


class ConsultationError(ValidationError):
    """Refused; the message says why (and ``field`` which input), nothing was written."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def _atomic() -> Any:
    return transaction.atomic(using=current_tenant_alias())


def staff_departments(actor: Any) -> dict[str, str]:
    """The departments (code → name) the staff member works in for public comments."""
    municipality = getattr(actor, "municipality", None)
    if municipality is None or municipality.lg_code != current_lg_code():
        return {}
    return {
        m.department.code: m.department.name
        for m in actor.memberships.select_related("department")
        if m.role in WORK_ROLES
    }


def _may_work(actor: Any, department: str) -> None:
    if department not in staff_departments(actor):
        raise ConsultationError(_("この案件を扱う権限がありません（担当課の職員ではありません）。"))


def period_bounds(
    first_day: datetime.date, last_day: datetime.date
) -> tuple[datetime.datetime, datetime.datetime]:
    """Days (both inclusive, local time) → [starts_at, ends_at): midnight to midnight."""
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(first_day, datetime.time(), tzinfo=tz)
    end = datetime.datetime.combine(
        last_day + datetime.timedelta(days=1), datetime.time(), tzinfo=tz
    )
    return start, end


def default_last_day(first_day: datetime.date) -> datetime.date:
    """30 days counting the first day (初日算入: 公示の日から起算して30日)."""
    return first_day + datetime.timedelta(days=DEFAULT_DAYS - 1)


def _clean(value: str, label: Any, limit: int, field: str, *, required: bool = True) -> str:
    value = (value or "").replace("\r\n", "\n").strip()
    if required and not value:
        raise ConsultationError(_("%(label)sを入力してください。") % {"label": label}, field)
    if len(value) > limit:
        raise ConsultationError(
            _("%(label)sは%(limit)d文字以内で入力してください。")
            % {"label": label, "limit": limit},
            field,
        )
    if "\x00" in value:
        raise ConsultationError(
            _("%(label)sに使えない文字が含まれています。") % {"label": label}, field
        )
    return value


def _clean_period(
    first_day: datetime.date, last_day: datetime.date | None, reason: str
) -> tuple[datetime.datetime, datetime.datetime, str]:
    last_day = last_day or default_last_day(first_day)
    if last_day < first_day:
        raise ConsultationError(_("募集の終了日は開始日より後にしてください。"), "last_day")
    days = (last_day - first_day).days + 1
    reason = _clean(
        reason, gettext_lazy("30日未満とする理由"), 1000, "short_period_reason", required=False
    )
    if days < DEFAULT_DAYS and not reason:
        # 行政手続法 §40 ①: a shorter period needs a reason, published with the draft.
        raise ConsultationError(
            _(
                "募集期間が%(days)d日です。30日未満とする場合は、その理由を入力してください"
                "（理由は公示されます）。"
            )
            % {"days": days},
            "short_period_reason",
        )
    if days >= DEFAULT_DAYS:
        reason = ""
    start, end = period_bounds(first_day, last_day)
    return start, end, reason


def consultation_create(
    *, title: str, summary: str, department: str, first_day: datetime.date,
    last_day: datetime.date | None = None, short_period_reason: str = "",
    identity_rule: str = IdentityRule.OPTIONAL, actor: Any,
    now: datetime.datetime | None = None,
) -> Consultation:  # fmt: skip
    """Draft a consultation (準備中); the period defaults to 30 days from ``first_day``."""
    departments = staff_departments(actor)
    if department not in departments:
        raise ConsultationError(
            _("担当課を選んでください（所属する課の案件だけを作成できます）。"), "department"
        )
    title = _clean(title, gettext_lazy("案件名"), 200, "title")
    summary = _clean(summary, gettext_lazy("案の概要"), 4000, "summary")
    if identity_rule not in IdentityRule.values:
        raise ConsultationError(_("氏名・住所の扱いを選んでください。"), "identity_rule")
    start, end, reason = _clean_period(first_day, last_day, short_period_reason)
    now = now or timezone.now()
    with _atomic():
        consultation = Consultation.objects.create(
            title=title, summary=summary, department=department,
            department_name=departments[department], starts_at=start, ends_at=end,
            short_period_reason=reason, identity_rule=identity_rule, created_at=now,
        )  # fmt: skip
        audit_append(
            action="publiccomment.consultation.created", actor=actor,
            object_type="consultation", object_id=str(consultation.pk),
            function="publiccomment", detail={"department": department},
        )  # fmt: skip
    return consultation


def _locked(consultation: Consultation) -> Consultation:
    return Consultation.objects.select_for_update().get(pk=consultation.pk)


def consultation_update(
    *, consultation: Consultation, title: str, summary: str, first_day: datetime.date,
    last_day: datetime.date | None = None, short_period_reason: str = "",
    identity_rule: str, actor: Any,
) -> Consultation:  # fmt: skip
    """Edit a draft; once published, the draft and its period are what was announced."""
    title = _clean(title, gettext_lazy("案件名"), 200, "title")
    summary = _clean(summary, gettext_lazy("案の概要"), 4000, "summary")
    if identity_rule not in IdentityRule.values:
        raise ConsultationError(_("氏名・住所の扱いを選んでください。"), "identity_rule")
    start, end, reason = _clean_period(first_day, last_day, short_period_reason)
    with _atomic():
        consultation = _locked(consultation)
        _may_work(actor, consultation.department)
        if consultation.published_at is not None:
            raise ConsultationError(_("公示した案件は変更できません。"))
        consultation.title, consultation.summary = title, summary
        consultation.starts_at, consultation.ends_at = start, end
        consultation.short_period_reason = reason
        consultation.identity_rule = identity_rule
        consultation.save()
        audit_append(
            action="publiccomment.consultation.updated", actor=actor,
            object_type="consultation", object_id=str(consultation.pk), function="publiccomment",
        )  # fmt: skip
    return consultation


def is_pdf(content: bytes) -> bool:
    """By content, not by name: a PDF header near the start and an end-of-file marker."""
    return b"%PDF-" in content[:1024] and b"%%EOF" in content[-2048:]


def document_add(
    *, consultation: Consultation, title: str, filename: str, content: bytes, actor: Any,
    now: datetime.datetime | None = None,
) -> Document:  # fmt: skip
    title = _clean(title, gettext_lazy("資料名"), 200, "title")
    if not content:
        raise ConsultationError(_("PDF ファイルを選んでください。"), "file")
    if len(content) > MAX_DOCUMENT:
        raise ConsultationError(_("PDF ファイルは10MB以下にしてください。"), "file")
    if not is_pdf(content):
        raise ConsultationError(_("PDF ファイルではありません（内容を確認しました）。"), "file")
    filename = (filename or "document.pdf").replace("/", "_").replace("\\", "_")[-200:]
    with _atomic():
        consultation = _locked(consultation)
        _may_work(actor, consultation.department)
        if consultation.published_at is not None:
            raise ConsultationError(_("公示した案件の資料は変更できません。"))
        document = Document.objects.create(
            consultation=consultation, title=title, filename=filename, size=len(content),
            content=content, added_at=now or timezone.now(),
        )  # fmt: skip
        audit_append(
            action="publiccomment.document.added", actor=actor, object_type="consultation",
            object_id=str(consultation.pk), function="publiccomment",
            detail={"document": document.pk, "size": len(content)},
        )  # fmt: skip
    return document


def document_delete(*, document: Document, actor: Any) -> None:
    with _atomic():
        consultation = _locked(document.consultation)
        _may_work(actor, consultation.department)
        if consultation.published_at is not None:
            raise ConsultationError(_("公示した案件の資料は変更できません。"))
        audit_append(
            action="publiccomment.document.deleted", actor=actor, object_type="consultation",
            object_id=str(consultation.pk), function="publiccomment",
            detail={"document": document.pk},
        )  # fmt: skip
        document.delete()


def consultation_publish(
    *, consultation: Consultation, actor: Any, now: datetime.datetime | None = None
) -> Consultation:
    """準備中 → 公示: the page goes public; comments are taken from ``starts_at``."""
    now = now or timezone.now()
    with _atomic():
        consultation = _locked(consultation)
        _may_work(actor, consultation.department)
        if consultation.published_at is not None:
            raise ConsultationError(_("この案件は既に公示しています。"))
        if consultation.ends_at <= now:
            raise ConsultationError(
                _("募集期間が既に過ぎています。期間を直してから公示してください。"), "last_day"
            )
        if not consultation.documents.exists():
            raise ConsultationError(
                _("案の資料（PDF）を1つ以上添付してから公示してください。"), "file"
            )
        consultation.published_at = now
        consultation.save(update_fields=["published_at"])
        audit_append(
            action="publiccomment.consultation.published", actor=actor,
            object_type="consultation", object_id=str(consultation.pk), function="publiccomment",
            detail={"starts_at": consultation.starts_at.isoformat(),
                    "ends_at": consultation.ends_at.isoformat()},
        )  # fmt: skip
        outbox_append(
            type=PUBLISHED, subject=str(consultation.pk),
            data={"consultation": consultation.pk, "department": consultation.department,
                  "starts_at": consultation.starts_at.isoformat(),
                  "ends_at": consultation.ends_at.isoformat()},
            time=now,
        )  # fmt: skip
    return consultation


@dataclass(frozen=True)
class Submission:
    body: str
    name: str = ""
    address: str = ""
    contact: str = ""
    attachment_name: str = ""
    attachment: bytes = b""


ATTACHMENT_TYPES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def attachment_type(content: bytes) -> str:
    """The attachment's type by its first bytes; "" when it is none of those accepted."""
    if content.startswith(b"%PDF-"):
        return "application/pdf" if is_pdf(content) else ""
    return next((kind for magic, kind in ATTACHMENT_TYPES if content.startswith(magic)), "")


def receipt_number(consultation_pk: int, sequence: int) -> str:
    return f"PC{consultation_pk:04d}-{sequence:05d}"


def comment_submit(
    *, consultation: Consultation, submission: Submission, now: datetime.datetime | None = None
) -> Comment:
    """A resident's or business's comment, accepted only while the period runs
    (``starts_at`` ≤ now < ``ends_at``); returns it with its receipt number (受付番号)."""
    body = _clean(submission.body, gettext_lazy("ご意見"), MAX_BODY, "body")
    required = consultation.identity_rule == IdentityRule.REQUIRED
    name = _clean(submission.name, gettext_lazy("氏名（名称）"), 100, "name", required=required)
    address = _clean(
        submission.address, gettext_lazy("住所（所在地）"), 200, "address", required=required
    )
    contact = _clean(submission.contact, gettext_lazy("連絡先"), 200, "contact", required=False)
    kind = ""
    if submission.attachment:
        if len(submission.attachment) > MAX_ATTACHMENT:
            raise ConsultationError(_("添付ファイルは5MB以下にしてください。"), "attachment")
        kind = attachment_type(submission.attachment)
        if not kind:
            raise ConsultationError(
                _("添付ファイルは PDF・PNG・JPEG のいずれかにしてください（内容を確認しました）。"),
                "attachment",
            )
    now = now or timezone.now()
    with _atomic():
        consultation = _locked(consultation)
        phase = consultation.phase_at(now)
        if phase != Phase.OPEN:
            if phase in (Phase.DRAFT, Phase.SCHEDULED):
                raise ConsultationError(_("意見の募集はまだ始まっていません。"))
            raise ConsultationError(_("意見の募集は終了しました。"))
        sequence = consultation.comment_count + 1
        Consultation.objects.filter(pk=consultation.pk).update(comment_count=F("comment_count") + 1)
        comment = Comment.objects.create(
            consultation=consultation, sequence=sequence,
            receipt_number=receipt_number(consultation.pk, sequence), body=body, name=name,
            address=address, contact=contact,
            attachment_name=(submission.attachment_name or "")[-200:] if kind else "",
            attachment_type=kind, attachment=submission.attachment or None, submitted_at=now,
        )  # fmt: skip
        audit_append(
            action="publiccomment.comment.submitted", object_type="consultation",
            object_id=str(consultation.pk), function="publiccomment:web",
            detail={"receipt": comment.receipt_number},
        )  # fmt: skip
    return comment


def _may_edit_result(actor: Any, consultation: Consultation, now: datetime.datetime) -> None:
    _may_work(actor, consultation.department)
    phase = consultation.phase_at(now)
    if phase == Phase.RESULT:
        raise ConsultationError(_("結果を公示した案件は変更できません。"))
    if phase != Phase.CLOSED:
        raise ConsultationError(_("意見の整理は募集期間の終了後に行います。"))


def group_save(
    *, consultation: Consultation, summary: str, view: str, draft_changed: bool, actor: Any,
    group: CommentGroup | None = None, now: datetime.datetime | None = None,
) -> CommentGroup:  # fmt: skip
    """Create or edit a group: the summary of its comments (意見の概要) and the view on it."""
    summary = _clean(summary, gettext_lazy("意見の概要"), 4000, "summary")
    view = _clean(view, gettext_lazy("市の考え方"), 4000, "view", required=False)
    now = now or timezone.now()
    with _atomic():
        consultation = _locked(consultation)
        _may_edit_result(actor, consultation, now)
        if group is None:
            group = CommentGroup.objects.create(
                consultation=consultation, summary=summary, view=view,
                draft_changed=draft_changed, position=consultation.groups.count() + 1,
            )  # fmt: skip
        else:
            if group.consultation_id != consultation.pk:
                raise ConsultationError(_("別の案件の意見の概要です。"))
            group.summary, group.view, group.draft_changed = summary, view, draft_changed
            group.save(update_fields=["summary", "view", "draft_changed"])
        audit_append(
            action="publiccomment.group.saved", actor=actor, object_type="consultation",
            object_id=str(consultation.pk), function="publiccomment",
            detail={"group": group.pk},
        )  # fmt: skip
    return group


def comments_assign(
    *, consultation: Consultation, comment_ids: list[int], group: CommentGroup | None,
    actor: Any, now: datetime.datetime | None = None,
) -> int:  # fmt: skip
    """Put comments into a group (or take them out with ``group`` None); how many moved."""
    if not comment_ids:
        raise ConsultationError(_("意見を1件以上選んでください。"), "comments")
    now = now or timezone.now()
    with _atomic():
        consultation = _locked(consultation)
        _may_edit_result(actor, consultation, now)
        if group is not None and group.consultation_id != consultation.pk:
            raise ConsultationError(_("別の案件の意見の概要です。"), "group")
        comments = Comment.objects.filter(consultation=consultation, pk__in=comment_ids)
        if comments.count() != len(set(comment_ids)):
            raise ConsultationError(_("この案件の意見ではないものが含まれています。"), "comments")
        moved = comments.update(group=group)
        audit_append(
            action="publiccomment.comments.assigned", actor=actor, object_type="consultation",
            object_id=str(consultation.pk), function="publiccomment",
            detail={"group": getattr(group, "pk", None), "comments": sorted(set(comment_ids))},
        )  # fmt: skip
    return moved


def result_publish(
    *, consultation: Consultation, note: str = "", actor: Any,
    now: datetime.datetime | None = None,
) -> Consultation:  # fmt: skip
    """募集終了 → 結果公示: every comment in a group, every group with a view."""
    note = _clean(note, gettext_lazy("結果の補足"), 4000, "note", required=False)
    now = now or timezone.now()
    with _atomic():
        consultation = _locked(consultation)
        _may_edit_result(actor, consultation, now)
        if consultation.comments.filter(group__isnull=True).exists():
            raise ConsultationError(_("意見の概要に振り分けていない意見があります。"))
        groups = list(consultation.groups.all())
        if any(not g.view for g in groups):
            raise ConsultationError(_("市の考え方が未記入の意見の概要があります。"))
        consultation.result_published_at = now
        consultation.result_note = note
        consultation.draft_changed = any(g.draft_changed for g in groups)
        consultation.save(update_fields=["result_published_at", "result_note", "draft_changed"])
        audit_append(
            action="publiccomment.result.published", actor=actor, object_type="consultation",
            object_id=str(consultation.pk), function="publiccomment",
            detail={"comments": consultation.comment_count, "groups": len(groups)},
        )  # fmt: skip
        outbox_append(
            type=RESULT_PUBLISHED, subject=str(consultation.pk),
            data={"consultation": consultation.pk, "comments": consultation.comment_count,
                  "draft_changed": consultation.draft_changed},
            time=now,
        )  # fmt: skip
    return consultation
