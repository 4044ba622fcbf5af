"""Every page type passes axe-core's WCAG 2.x A/AA rules and respects the CSP.

For each page: no axe violation of impact serious or critical, <html lang>, exactly
one <h1>, no Content-Security-Policy violation in the console, no JavaScript
error and no request to a host other than 127.0.0.1. Less severe axe findings are
printed (pytest -s shows them) without failing.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect

# Screenshots to look at (outside the repository): /tmp/machi-screens/*.png
SCREENS = Path(tempfile.gettempdir()) / "machi-screens"


def _screenshot(page: Page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def test_login_page(page: Page, watch, check_page):
    watcher = watch(page)
    page.goto("/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("職員ログイン")
    _screenshot(page, "login")
    check_page(page, watcher, "login page")


def test_login_page_with_errors(page: Page, watch, check_page, login_steps):
    watcher = watch(page)
    login_steps.password(page, "nobody-here", "wrong-password-123")
    expect(page.get_by_role("alert")).to_contain_text(
        "ユーザー名またはパスワードが正しくありません。"
    )
    check_page(page, watcher, "login page with an error")


def test_otp_page_and_home_page_in_japanese_and_english(
    page: Page, base_url, watch, check_page, login_steps, otp_code
):
    watcher = watch(page)
    login_steps.password(page, "sakai-clerk")
    expect(page).to_have_url(f"{base_url}/login/otp/")
    check_page(page, watcher, "OTP page")

    login_steps.otp(page, otp_code("sakai-clerk"))
    expect(page).to_have_url(f"{base_url}/271403/home/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("堺市 職員ホーム")
    _screenshot(page, "home")
    check_page(page, watcher, "home page (ja)")

    page.get_by_label("表示言語").select_option("en")
    page.get_by_role("button", name="切替").click()
    expect(page).to_have_url(f"{base_url}/271403/home/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    _screenshot(page, "home-en")
    check_page(page, watcher, "home page (en)", lang="en")

    # The language is kept per user: put sakai-clerk back to Japanese for later tests.
    page.get_by_label("Language").select_option("ja")
    page.get_by_role("button", name="Switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")


def test_enrolment_page(page: Page, base_url, watch, check_page, login_steps, unenrolled_staff):
    watcher = watch(page)
    login_steps.password(page, unenrolled_staff[1])
    expect(page).to_have_url(f"{base_url}/login/otp/enrol/")
    expect(page.locator("figure.qr svg")).to_be_visible()
    _screenshot(page, "enrol")
    check_page(page, watcher, "enrolment page")


def test_audit_search_page(signed_in_page, base_url, watch, check_page):
    page = signed_in_page("chiyoda-supervisor")
    watcher = watch(page)
    page.get_by_role("link", name="監査ログ").first.click()
    expect(page).to_have_url(f"{base_url}/131016/audit/")
    expect(page.get_by_role("heading", level=1)).to_have_text("監査ログ")

    page.get_by_label("職員（ユーザー名）").fill("chiyoda-supervisor")
    with page.expect_response(lambda r: "/131016/audit/" in r.url and r.request.method == "GET"):
        page.get_by_role("button", name="検索").click()
    # htmx swaps the results in and pushes the search into the address bar.
    expect(page).to_have_url(re.compile(r"/131016/audit/\?.*actor=chiyoda-supervisor"))
    expect(page.locator("#audit-results table caption")).to_contain_text("件")
    expect(page.locator("#audit-results tbody")).to_contain_text("chiyoda-supervisor")
    _screenshot(page, "audit")
    check_page(page, watcher, "audit search page (after a search)")


def test_staff_admin_page(signed_in_page, base_url, watch, check_page):
    page = signed_in_page("chiyoda-admin")
    watcher = watch(page)
    page.get_by_role("link", name="職員管理").first.click()
    expect(page).to_have_url(f"{base_url}/131016/staff/")
    expect(page.get_by_role("cell", name="chiyoda-clerk", exact=True)).to_be_visible()
    check_page(page, watcher, "staff admin page")


def test_platform_page(signed_in_page, base_url, watch, check_page):
    page = signed_in_page("operator")
    watcher = watch(page)
    page.goto("/")
    expect(page).to_have_url(f"{base_url}/platform/")
    expect(page.get_by_role("cell", name="千代田区", exact=True)).to_be_visible()
    check_page(page, watcher, "platform page")


def test_403_page(signed_in_page, watch, check_page):
    # sakai-admin (not chiyoda-clerk: test_login_flow spends chiyoda-clerk's TOTP code)
    page = signed_in_page("sakai-admin")
    watcher = watch(page)
    response = page.goto("/131016/staff/")
    assert response is not None and response.status == 403
    check_page(page, watcher, "403 page")


def test_404_page(page: Page, watch, check_page, machi_production_server):
    # With MACHI_DEBUG=1 Django shows its technical 404 page; machi's own 404 page
    # is what production serves, so it is checked on the MACHI_DEBUG=0 server.
    watcher = watch(page)
    response = page.goto(f"{machi_production_server}/no-such-page/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("ページが見つかりません")
    check_page(page, watcher, "404 page")
