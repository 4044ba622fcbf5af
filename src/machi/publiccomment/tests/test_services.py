"""Public comment services: the period (30 days, a shorter one needs a reason), the phases
at the exact boundaries, receipt numbers, grouping and the result, audit and events."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from machi.audit.models import AuditEntry
from machi.linkage.models import OutboxEvent
from machi.publiccomment import selectors, services
from machi.publiccomment.models import Comment, Consultation, IdentityRule, Phase
from machi.publiccomment.services import ConsultationError, Submission
from machi.tenancy.context import tenant_context

from .conftest import PDF, A

pytestmark = pytest.mark.django_db(databases="__all__")

# Ahead of the real clock, so that publishing (which refuses a past period) always works.
DAY = datetime.date.today() + datetime.timedelta(days=60)


def test_default_period_is_30_days_counting_the_first_day(make_consultation):
    c = make_consultation(DAY, publish=False)
    assert c.first_day == DAY and c.last_day == DAY + datetime.timedelta(days=29)
    assert timezone.localtime(c.ends_at) == timezone.localtime(c.starts_at) + datetime.timedelta(
        days=30
    )
    assert c.short_period_reason == ""


def test_a_shorter_period_needs_a_reason(make_consultation, planner):
    with tenant_context(A), pytest.raises(ConsultationError) as refused:
        services.consultation_create(
            title="案",
            summary="概要",
            department="kikaku",
            first_day=DAY,
            last_day=DAY + datetime.timedelta(days=13),
            actor=planner,
        )
    assert refused.value.field == "short_period_reason" and "14日" in refused.value.messages[0]
    with tenant_context(A):
        assert not Consultation.objects.exists()
    c = make_consultation(
        DAY,
        DAY + datetime.timedelta(days=13),
        short_period_reason="法改正の施行日に間に合わせるため",
    )
    assert c.short_period_reason == "法改正の施行日に間に合わせるため"


def test_end_before_start_and_other_department_refused(planner, kankyo_staff):
    with tenant_context(A):
        with pytest.raises(ConsultationError) as refused:
            services.consultation_create(
                title="案",
                summary="概要",
                department="kikaku",
                first_day=DAY,
                last_day=DAY - datetime.timedelta(days=1),
                actor=planner,
            )
        assert refused.value.field == "last_day"
        with pytest.raises(ConsultationError) as refused:
            services.consultation_create(
                title="案", summary="概要", department="kikaku", first_day=DAY, actor=kankyo_staff
            )
        assert refused.value.field == "department"


def test_publish_needs_a_document_and_is_audited_with_an_event(planner):
    with tenant_context(A):
        c = services.consultation_create(
            title="案",
            summary="概要",
            department="kikaku",
            first_day=DAY,
            actor=planner,
            now=timezone.now(),
        )
        with pytest.raises(ConsultationError, match="PDF"):
            services.consultation_publish(consultation=c, actor=planner, now=timezone.now())
        services.document_add(
            consultation=c, title="本文", filename="a.pdf", content=PDF, actor=planner
        )
        now = timezone.now()
        services.consultation_publish(consultation=c, actor=planner, now=now)
        event = OutboxEvent.objects.get(type="jp.machi.consultation.published")
        assert event.subject == str(c.pk) and "title" not in event.data
        assert AuditEntry.objects.filter(action="publiccomment.consultation.published").count() == 1
        with pytest.raises(ConsultationError, match="既に公示"):
            services.consultation_publish(consultation=c, actor=planner, now=now)
        with pytest.raises(ConsultationError, match="公示した案件"):
            services.document_add(
                consultation=c, title="追加", filename="b.pdf", content=PDF, actor=planner
            )


def test_document_type_is_checked_by_content(make_consultation, planner):
    c = make_consultation(DAY, publish=False)
    with tenant_context(A):
        for content in (b"<html>not a pdf</html>", b"%PDF-1.4 truncated", b""):
            with pytest.raises(ConsultationError) as refused:
                services.document_add(
                    consultation=c,
                    title="本文",
                    filename="plan.pdf",
                    content=content,
                    actor=planner,
                )
            assert refused.value.field == "file"
        assert c.documents.count() == 1


def _submit(c, body="賛成です。", **kwargs):
    with tenant_context(A):
        return services.comment_submit(consultation=c, submission=Submission(body=body, **kwargs))


def test_comments_only_within_the_period_at_the_exact_boundaries(make_consultation):
    c = make_consultation(DAY)
    with time_machine.travel(c.starts_at - datetime.timedelta(microseconds=1), tick=False):
        assert c.phase_at(timezone.now()) == Phase.SCHEDULED
        with pytest.raises(ConsultationError, match="まだ始まって"):
            _submit(c)
    with time_machine.travel(c.starts_at, tick=False):
        assert _submit(c).sequence == 1
    with time_machine.travel(c.ends_at - datetime.timedelta(microseconds=1), tick=False):
        assert c.phase_at(timezone.now()) == Phase.OPEN
        assert _submit(c).sequence == 2
    with time_machine.travel(c.ends_at, tick=False):
        assert c.phase_at(timezone.now()) == Phase.CLOSED
        with pytest.raises(ConsultationError, match="終了しました"):
            _submit(c)
    with tenant_context(A):
        assert Comment.objects.count() == 2


def test_a_draft_takes_no_comments(make_consultation):
    c = make_consultation(timezone.localdate(), publish=False)
    with pytest.raises(ConsultationError, match="まだ始まって"):
        _submit(c)


def test_receipt_numbers_are_unique_and_sequential(make_consultation):
    first, second = make_consultation(), make_consultation(title="景観条例（案）")
    receipts = [_submit(first).receipt_number for _ in range(5)]
    receipts += [_submit(second).receipt_number for _ in range(3)]
    assert len(set(receipts)) == 8
    assert receipts[0].endswith("-00001") and receipts[4].endswith("-00005")
    with tenant_context(A):
        assert Consultation.objects.get(pk=first.pk).comment_count == 5


def test_identity_rule_and_bad_input_name_the_field(make_consultation):
    c = make_consultation(identity_rule=IdentityRule.REQUIRED)
    cases = [
        ({"body": " "}, "body"),
        ({"body": "あ" * 8001}, "body"),
        ({"name": ""}, "name"),
        ({"address": ""}, "address"),
        ({"attachment": b"MZ\x90\x00 an executable", "attachment_name": "a.pdf"}, "attachment"),
        ({"attachment": b"\x89PNG\r\n\x1a\n" + b"0" * services.MAX_ATTACHMENT}, "attachment"),
    ]
    for changes, field in cases:
        values = {"body": "意見", "name": "山田花子", "address": "千代田区丸の内1-1", **changes}
        with pytest.raises(ConsultationError) as refused:
            _submit(c, **values)
        assert refused.value.field == field, changes
    with tenant_context(A):
        assert not Comment.objects.exists()
    png = _submit(
        c, body="意見", name="山田花子", address="千代田区", attachment=b"\x89PNG\r\n\x1a\nrest"
    )
    assert png.attachment_type == "image/png"


def _close(c):
    return time_machine.travel(c.ends_at + datetime.timedelta(hours=1), tick=False)


def test_grouping_and_result(make_consultation, planner, kankyo_staff):
    c = make_consultation()
    _submit(c, body="公園を増やして", name="山田花子", address="千代田区丸の内1-1")
    _submit(c, body="公園をもっと", name="山田花子", address="千代田区丸の内1-1")
    _submit(c, body="バスの本数を")
    with tenant_context(A):
        ids = list(Comment.objects.values_list("pk", flat=True))
        with pytest.raises(ConsultationError, match="終了後"):
            services.group_save(
                consultation=c, summary="公園", view="", draft_changed=False, actor=planner
            )
        with _close(c):
            with pytest.raises(ConsultationError, match="権限"):
                services.group_save(
                    consultation=c, summary="公園", view="", draft_changed=False, actor=kankyo_staff
                )
            parks = services.group_save(
                consultation=c,
                summary="公園の整備を求める意見",
                view="",
                draft_changed=True,
                actor=planner,
            )
            buses = services.group_save(
                consultation=c,
                summary="公共交通の充実",
                view="計画に盛り込み済みです。",
                draft_changed=False,
                actor=planner,
            )
            services.comments_assign(
                consultation=c, comment_ids=ids[:2], group=parks, actor=planner
            )
            with pytest.raises(ConsultationError, match="振り分けていない"):
                services.result_publish(consultation=c, actor=planner)
            services.comments_assign(
                consultation=c, comment_ids=ids[2:], group=buses, actor=planner
            )
            with pytest.raises(ConsultationError, match="市の考え方"):
                services.result_publish(consultation=c, actor=planner)
            services.group_save(
                consultation=c,
                group=parks,
                summary="公園の整備を求める意見",
                view="第2章に公園の整備を追記しました。",
                draft_changed=True,
                actor=planner,
            )
            with pytest.raises(ConsultationError, match="ではないもの"):
                services.comments_assign(
                    consultation=c, comment_ids=[999999], group=parks, actor=planner
                )
            result = services.result_publish(consultation=c, actor=planner)
            assert result.phase_at(timezone.now()) == Phase.RESULT and result.draft_changed
            with pytest.raises(ConsultationError, match="結果を公示した"):
                services.group_save(
                    consultation=c, summary="追加", view="", draft_changed=False, actor=planner
                )
        summary = selectors.result_get(consultation=result)
        assert (summary.comments, summary.submitters) == (3, 2)
        assert [g.size for g in summary.groups] == [2, 1]
        event = OutboxEvent.objects.get(type="jp.machi.consultation.result_published")
        assert event.data == {"consultation": c.pk, "comments": 3, "draft_changed": True}
        actions = set(AuditEntry.objects.values_list("action", flat=True))
        assert {
            "publiccomment.comment.submitted",
            "publiccomment.group.saved",
            "publiccomment.comments.assigned",
            "publiccomment.result.published",
        } <= actions
        logged = " ".join(str(d) for d in AuditEntry.objects.values_list("detail", flat=True))
        assert "山田" not in logged and "公園を増やして" not in logged
