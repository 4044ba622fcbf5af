"""Issue 13, done when: "a draft plan goes through public comment to a published result".

One test, over HTTP only, from the department's empty list to the result page: draft,
PDF, 公示, two submitters (one with a name, address and contact) with their receipt
numbers, the deadline passing, a late comment refused, grouping with the municipality's
view, the result published without personal data, and each phase audited and shown in
the page's 経過. The phases one by one (boundaries, bad input, refusals) are in
test_services.py and test_views.py.
"""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from machi.audit.models import AuditEntry
from machi.publiccomment.models import Comment, Consultation
from machi.tenancy.context import tenant_context

from .conftest import PDF, A
from .test_views import LIST, STAFF, page, post_comment, staff_page

pytestmark = pytest.mark.django_db(databases="__all__")

SUBMITTER = {"name": "丸の内 花子", "address": "千代田区丸の内一丁目1番1号",
             "contact": "hanako@example.jp",
             "body": "駐輪場が足りません。駅の北側に整備してください。"}  # fmt: skip


def test_a_draft_plan_goes_through_public_comment_to_a_published_result(planner, signed_in):
    """Proves: "a draft plan goes through public comment to a published result" (without
    personal data on any public page)."""
    first = timezone.localdate()
    staff = signed_in(planner)
    assert staff.post(STAFF + "new/", {
        "title": "第3次総合計画（案）", "summary": "今後10年のまちづくりの方針です。",
        "department": "kikaku", "first_day": first.isoformat(), "last_day": "",
        "identity_rule": "optional",
    }).status_code == 302  # fmt: skip
    with tenant_context(A):
        c = Consultation.objects.get()
    assert c.title not in Client().get(LIST).content.decode()  # 準備中: not public yet
    assert Client().get(page(c.pk)).status_code == 404
    upload = SimpleUploadedFile("keikaku.pdf", PDF)
    assert staff.post(staff_page(c.pk) + "document/",
                      {"title": "計画案本文", "file": upload}).status_code == 302  # fmt: skip
    assert staff.post(staff_page(c.pk) + "publish/").status_code == 302

    resident = Client()
    assert c.title in resident.get(LIST).content.decode()
    sent = post_comment(resident, c.pk, **SUBMITTER)
    assert sent.status_code == 302
    receipt_page = resident.get(sent["Location"]).content.decode()
    assert post_comment(Client(), c.pk, body="計画に賛成です。").status_code == 302
    with tenant_context(A):
        receipts = list(Comment.objects.values_list("receipt_number", flat=True))
    assert len(receipts) == 2 and any(r in receipt_page for r in receipts)

    with tenant_context(A):
        c = Consultation.objects.get(pk=c.pk)
    with time_machine.travel(c.ends_at + datetime.timedelta(hours=1), tick=False):
        late = post_comment(Client(), c.pk, body="締切後の意見です。")
        assert late.status_code in (400, 409)
        staff = signed_in(planner)  # the earlier session would have expired meanwhile
        assert staff.post(staff_page(c.pk) + "group/", {
            "summary": "駐輪場の整備を求める意見",
            "view": "駅北側の駐輪場を令和9年度に整備します。",
            "draft_changed": "on",
        }).status_code == 302  # fmt: skip
        with tenant_context(A):
            group = Consultation.objects.get(pk=c.pk).groups.get()
            ids = [str(pk) for pk in Comment.objects.values_list("pk", flat=True)]
        assert staff.post(staff_page(c.pk) + "assign/",
                          {"group": str(group.pk), "comments": ids}).status_code == 302  # fmt: skip
        assert staff.post(staff_page(c.pk) + "result/", {"note": ""}).status_code == 302
        public = Client().get(page(c.pk)).content.decode()
        listing = Client().get(LIST).content.decode()

    assert "意見募集の結果" in public and "駅北側の駐輪場を令和9年度に整備します。" in public
    assert "2件" in public and "2人・団体" in public
    assert "意見を踏まえて案を修正しました。" in public
    assert "公示" in public and "結果公示" in public and "意見募集の終了" in public  # 経過
    for secret in (*SUBMITTER.values(), "計画に賛成です。", *receipts):
        assert secret not in public and secret not in listing
    with tenant_context(A):
        assert Comment.objects.count() == 2  # the late one was refused
        actions = set(
            AuditEntry.objects.filter(object_type="consultation").values_list("action", flat=True)
        )
    assert {"publiccomment.consultation.created", "publiccomment.document.added",
            "publiccomment.consultation.published",
            "publiccomment.result.published"} <= actions  # fmt: skip
    # The result page stays public long after.
    with time_machine.travel(c.ends_at + datetime.timedelta(days=800), tick=False):
        assert "駐輪場の整備を求める意見" in Client().get(page(c.pk)).content.decode()
