"""パブリックコメント in a real browser (issue 13, part 2).

A resident of 千代田区 opens the list of consultations, the open draft with its PDF, sends
the form empty (the error summary names the field, takes the focus and points the control
at its message), then sends a comment and gets a receipt number (受付番号). A past
consultation shows its published result: counts and the staff's summaries, never the
submitters' names or addresses. axe-core finds no serious or critical violation on these
pages, on a phone and on a desktop screen; no CSP violation, script error, foreign request
or sideways scrolling.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

CHIYODA = "131016"
BASE = f"/{CHIYODA}/public-comment"
SIZES = {"phone": (390, 844), "desktop": (1280, 800)}
OVERFLOW_JS = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
SECRET_NAME, SECRET_ADDRESS = "公募太郎", "千代田区永田町九丁目9番9号"

SEED = f"""
import datetime
from django.utils import timezone
from machi.accounts.models import Department
from machi.accounts.services import staff_create
from machi.publiccomment import services
from machi.publiccomment.models import Consultation
from machi.tenancy.context import tenant_context
from machi.tenancy.models import Municipality

PDF = b"%PDF-1.4\\n1 0 obj<<>>endobj\\ntrailer<<>>\\n%%EOF\\n"
m = Municipality.objects.get(lg_code={CHIYODA!r})
Department.objects.get_or_create(municipality=m, code="kikaku", defaults={{"name": "企画課"}})
staff = staff_create(username="e2e-kikaku", display_name="企画 花子", password="unused-pw-2026x",
                     municipality=m, memberships=[("kikaku", "department_staff")])
today = timezone.localdate()
with tenant_context({CHIYODA!r}):
    open_ = services.consultation_create(
        title="e2e 緑の基本計画（案）", summary="公園と街路樹の10年計画です。",
        department="kikaku", first_day=today, actor=staff)
    services.document_add(consultation=open_, title="計画案本文", filename="plan.pdf",
                          content=PDF, actor=staff)
    services.consultation_publish(consultation=open_, actor=staff)
    past = services.consultation_create(
        title="e2e 自転車活用推進計画（案）", summary="駐輪場と自転車道の計画です。",
        department="kikaku", first_day=today - datetime.timedelta(days=40), actor=staff)
    services.document_add(consultation=past, title="計画案", filename="bike.pdf", content=PDF,
                          actor=staff)
    during = past.starts_at + datetime.timedelta(days=1)
    services.consultation_publish(consultation=past, actor=staff, now=during)
    services.comment_submit(consultation=past, now=during, submission=services.Submission(
        body="駐輪場を増やしてください。", name={SECRET_NAME!r}, address={SECRET_ADDRESS!r}))
    group = services.group_save(consultation=past, summary="駐輪場の増設を求める意見",
                                view="駅前に200台分を整備します。", draft_changed=True, actor=staff)
    ids = list(past.comments.values_list("pk", flat=True))
    services.comments_assign(consultation=past, comment_ids=ids, group=group, actor=staff)
    services.result_publish(consultation=past, actor=staff)
    print(open_.pk, past.pk)
"""


@pytest.fixture(scope="module")
def consultations(machi_server) -> tuple[int, int]:
    out = machi_server.machi("shell", "-c", SEED).strip().splitlines()[-1]
    open_pk, past_pk = (int(value) for value in out.split())
    return open_pk, past_pk


@pytest.mark.parametrize("size", list(SIZES))
def test_resident_reads_the_draft_and_submits_a_comment(page: Page, consultations, checks, size):
    open_pk, _past = consultations
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    checks.watched(page)
    page.goto(f"{BASE}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("パブリックコメント（意見公募）")
    assert page.evaluate(OVERFLOW_JS), "the list scrolls sideways"
    checks.check(page, f"public comment list ({size})")

    page.get_by_role("link", name="e2e 緑の基本計画（案）").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("e2e 緑の基本計画（案）")
    expect(page.get_by_role("link", name="計画案本文")).to_have_attribute(
        "href", re.compile(rf"/public-comment/{open_pk}/documents/\d+/$")
    )
    assert page.evaluate(OVERFLOW_JS), "the consultation page scrolls sideways"
    checks.check(page, f"open consultation ({size})")

    page.get_by_role("button", name="意見を提出する").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("ご意見を入力してください。")
    expect(page.locator("#pc-errors")).to_be_focused()
    body = page.get_by_label("ご意見")
    expect(body).to_have_attribute("aria-invalid", "true")
    expect(body).to_have_accessible_description(re.compile("ご意見を入力してください。"))
    checks.check(page, f"comment form with an error ({size})")

    summary.get_by_role("link").click()
    expect(body).to_be_focused()
    body.fill("街路樹の木陰を増やしてください。")
    page.get_by_label("氏名（団体の場合は名称）").fill("試験 花子")
    page.get_by_role("button", name="意見を提出する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("意見を受け付けました")
    expect(page.locator(".pc-receipt")).to_have_text(re.compile(rf"^PC{open_pk:04d}-\d{{5}}$"))
    checks.check(page, f"receipt ({size})")
    checks.assert_clean()


@pytest.mark.parametrize("size", list(SIZES))
def test_published_result_without_personal_data(page: Page, consultations, checks, size):
    _open, past_pk = consultations
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    checks.watched(page)
    page.goto(f"{BASE}/{past_pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("e2e 自転車活用推進計画（案）")
    table = page.locator(".pc-result")
    expect(table).to_contain_text("駐輪場の増設を求める意見")
    expect(table).to_contain_text("駅前に200台分を整備します。")
    html = page.content()
    assert SECRET_NAME not in html and SECRET_ADDRESS not in html
    assert "駐輪場を増やしてください。" not in html
    expect(page.get_by_role("button", name="意見を提出する")).to_have_count(0)
    assert page.evaluate(OVERFLOW_JS), "the result page scrolls sideways"
    checks.check(page, f"published result ({size})")

    page.goto(f"{BASE}/{past_pk}/?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    checks.check(page, f"published result, English ({size})")
    page.goto(f"{BASE}/{past_pk}/?lang=ja")
    checks.assert_clean()
