"""An agent of the contact center takes a phone question: types 「住民票を取りたい」,
sees the FAQ 住民票の写しの請求 suggested while typing, reaches it with the keyboard,
answers from it, and the ticket shows as resolved at first contact (一次解決). At both
counter screen sizes, with axe-core and the page watcher on each page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

USERNAME = "e2e-agent"
DEMO_PASSWORD = "machi-demo-2026"  # conftest's; the test modules can't import conftest
SIZES = [(1280, 800), (1024, 768)]


@pytest.fixture(scope="module")
def agent(machi_server) -> str:
    """A counter clerk of 千代田区 who also edits the FAQ (担当課職員), with a confirmed
    TOTP device, and the default FAQ."""
    script = (
        "from django_otp.plugins.otp_totp.models import TOTPDevice\n"
        "from machi.accounts.models import Staff\n"
        "from machi.accounts.services import staff_create\n"
        "from machi.contact.services.faq import faq_load_default\n"
        "from machi.tenancy.context import tenant_context\n"
        "from machi.tenancy.models import Municipality\n"
        f"if not Staff.objects.filter(username={USERNAME!r}).exists():\n"
        f"    s = staff_create(username={USERNAME!r}, display_name='電話 応子',\n"
        f"        password={DEMO_PASSWORD!r},\n"
        "        municipality=Municipality.objects.get(lg_code='131016'),\n"
        "        memberships=[('shimin', 'counter_clerk'), ('shimin', 'department_staff')])\n"
        "    TOTPDevice.objects.create(user=s, name='e2e', confirmed=True)\n"
        "with tenant_context('131016'):\n"
        "    faq_load_default()\n"
    )
    machi_server.machi("shell", "-c", script)
    return USERNAME


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_agent_answers_a_phone_question_from_the_faq(agent, signed_in_page, checks, size):
    page: Page = checks.watched(signed_in_page(agent))
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto("/131016/contact/tickets/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("電話で受付")

    question = page.get_by_label("お問い合わせ内容")
    question.focus()
    question.press_sequentially("住民票を取りたい", delay=30)
    suggestions = page.locator("#faq-suggestions")
    hit = suggestions.get_by_role("heading", name="住民票の写しの請求", exact=True)
    expect(hit).to_be_visible()
    checks.check(page, f"phone ticket with FAQ suggestions ({size[0]}×{size[1]})")

    # The suggestion list is reached with Tab: from the link under the question…
    question.press("Tab")
    expect(page.locator(":focus")).to_have_text("似ている FAQ へ移動")
    # …and inside it, the full answer's toggle then the button that answers from it.
    first = suggestions.locator("li.faq-hit").first
    expect(first.locator("h3")).to_have_text("住民票の写しの請求")
    first.locator("summary").focus()
    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    expect(focused).to_have_text("この回答で解決: 住民票の写しの請求")
    expect(focused).to_be_in_viewport()
    outline = focused.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline != "none", "the focused button shows no focus outline"

    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/131016/contact/tickets/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("住民票の写しの請求")
    summary = page.locator("dl.ticket-summary")
    expect(summary).to_contain_text("解決")
    expect(summary.locator(".fcr")).to_have_text("一次解決")
    expect(page.locator("li.article-reply")).to_contain_text("住民票の写しは市民課の窓口")
    expect(page.get_by_role("status").first).to_contain_text("一次解決にしました")
    checks.check(page, f"ticket answered from the FAQ ({size[0]}×{size[1]})")

    page.goto("/131016/contact/tickets/?state=resolved")
    expect(page.locator("table.contact-tickets")).to_contain_text("一次解決")
    checks.check(page, f"ticket list ({size[0]}×{size[1]})")
    checks.assert_clean()


OVERFLOW_JS = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_hand_over_and_faq_administration_pages(agent, signed_in_page, checks, size):
    page: Page = checks.watched(signed_in_page(agent))
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto("/131016/counter/reception/")
    page.get_by_role("link", name="コールセンターへ引継ぎ").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("コールセンターへ引継ぎ")
    assert page.evaluate(OVERFLOW_JS), "the hand-over page scrolls sideways"
    checks.check(page, f"hand-over ({size[0]}×{size[1]})")

    page.goto("/131016/contact/faq/")
    expect(page.get_by_role("heading", level=1)).to_have_text("FAQ の管理")
    page.get_by_role("link", name="住民票の写しの請求", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("FAQ の編集")
    expect(page.locator(".faq-preview")).to_contain_text("住民票の写しは")
    assert page.evaluate(OVERFLOW_JS), "the FAQ edit page scrolls sideways"
    checks.check(page, f"FAQ edit ({size[0]}×{size[1]})")

    page.goto("/131016/contact/faq/synonyms/")
    expect(page.get_by_role("heading", level=1)).to_have_text("同義語")
    checks.check(page, f"FAQ synonyms ({size[0]}×{size[1]})")
    checks.assert_clean()
