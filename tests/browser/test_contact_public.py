"""The contact center's resident pages and metrics page in a real browser (issue 13).

A resident of 千代田区 searches the FAQ in everyday Japanese, opens the answer and marks
it helpful; on the contact form, the matching answers appear while they type (htmx).
axe-core finds no serious or critical violation on the FAQ, the answer, the form and the
supervisor's metrics page, on a phone and on a desktop screen; the page watcher sees no
CSP violation, JavaScript error or request to another host.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

CHIYODA = "131016"
BASE = f"/{CHIYODA}"
SIZES = {"phone": (390, 844), "desktop": (1280, 800)}


@pytest.fixture(scope="module")
def faq_loaded(machi_server) -> None:
    machi_server.machi(
        "shell",
        "-c",
        "from machi.tenancy.context import tenant_context\n"
        "from machi.contact.services.faq import faq_load_default\n"
        f"with tenant_context({CHIYODA!r}):\n"
        "    faq_load_default()\n",
    )


@pytest.mark.parametrize("size", list(SIZES))
def test_resident_searches_reads_and_marks_helpful(page: Page, faq_loaded, checks, size):
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    checks.watched(page)
    page.goto(f"{BASE}/faq/")
    expect(page.get_by_role("heading", level=1)).to_have_text("よくある質問")
    checks.check(page, f"FAQ ({size})")

    page.get_by_label("知りたいこと").fill("住民票を取りたい")
    page.get_by_role("button", name="検索").click()
    results = page.locator(".cc-hits")
    expect(results.get_by_role("link").first).to_have_text("住民票の写しの請求")
    checks.check(page, f"FAQ results ({size})")

    results.get_by_role("link", name="住民票の写しの請求").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("住民票の写しの請求")
    checks.check(page, f"FAQ answer ({size})")
    page.get_by_role("button", name="役に立った", exact=True).click()
    expect(
        page.get_by_role("status").filter(has_text="評価をありがとうございました")
    ).to_be_visible()
    expect(page.get_by_role("button", name="役に立った", exact=True)).to_have_count(0)
    checks.check(page, f"FAQ answer after the vote ({size})")
    checks.assert_clean()


@pytest.mark.parametrize("size", list(SIZES))
def test_contact_form_suggests_answers_while_typing(page: Page, faq_loaded, checks, size):
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    checks.watched(page)
    page.goto(f"{BASE}/contact/")
    expect(page.get_by_role("heading", level=1)).to_have_text("お問い合わせフォーム")
    checks.check(page, f"contact form ({size})")
    page.get_by_label("お問い合わせの内容").press_sequentially("粗大ごみを出したい", delay=30)
    suggestions = page.locator("#cc-suggestions")
    expect(suggestions.get_by_role("heading", name="この回答で解決しませんか")).to_be_visible()
    expect(suggestions.get_by_role("link", name="粗大ごみの出し方")).to_be_visible()
    checks.check(page, f"contact form with suggestions ({size})")
    # the suggestions were seen: one 送信 sends
    page.get_by_role("button", name="送信").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("お問い合わせを受け付けました")
    expect(page.locator(".cc-receipt dd")).to_have_text(re.compile(r"^\d{4}-\d{6}$"))
    checks.check(page, f"contact receipt ({size})")
    checks.assert_clean()


def test_contact_form_errors_are_announced(page: Page, faq_loaded, checks):
    checks.watched(page)
    page.goto(f"{BASE}/contact/")
    page.get_by_label("お問い合わせの内容").fill("質問です")
    page.get_by_label("メールアドレス（任意）").fill("not-a-mail")
    page.get_by_role("button", name="送信").click()
    expect(page.get_by_role("alert")).to_contain_text("メールアドレスの形が正しくありません")
    field = page.get_by_label("メールアドレス（任意）")
    expect(field).to_have_attribute("aria-invalid", "true")
    checks.check(page, "contact form with an error")
    checks.assert_clean()


@pytest.mark.parametrize("size", list(SIZES))
def test_metrics_page(signed_in_page, checks, size):
    page = signed_in_page("chiyoda-supervisor")
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    checks.watched(page)
    page.goto(f"{BASE}/contact/metrics/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("コールセンター統計")
    expect(page.locator("#table-fcr")).to_be_visible()
    # a chart per section (the topics' only once some ticket has a week to show)
    expect(page.locator('svg[role="img"]').first).to_be_visible()
    assert page.locator('svg[role="img"]').count() >= 4
    checks.check(page, f"contact metrics ({size})")
    checks.assert_clean()
