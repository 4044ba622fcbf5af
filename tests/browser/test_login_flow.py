"""Signing in with password and TOTP, enrolment, refusals and logout, in a real browser.

Every TOTP code is good once per user, so each test signs in a different demo user
(chiyoda-clerk's session is shared with other tests through signed_in_page).
"""

from __future__ import annotations

import base64
import re
import time

from django_otp.oath import TOTP
from playwright.sync_api import Page, expect

CHIYODA = "131016"
SAKAI = "271403"
OTP_ERROR = "確認コードが正しくありません。"


def test_staff_signs_in_with_password_and_totp(
    page: Page, base_url, otp_code, login_steps, _signed_in_states
):
    login_steps.password(page, "chiyoda-clerk")
    expect(page).to_have_url(f"{base_url}/login/otp/")
    expect(page.get_by_role("heading", level=1)).to_have_text("確認コードの入力")

    login_steps.otp(page, otp_code("chiyoda-clerk"))

    expect(page).to_have_url(f"{base_url}/{CHIYODA}/home/")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("千代田区")
    expect(heading).to_contain_text("職員ホーム")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_text("窓口 花子（chiyoda-clerk）")).to_be_visible()
    # Other tests reuse this signed-in session instead of spending another TOTP code.
    _signed_in_states.setdefault("chiyoda-clerk", page.context.storage_state())


def test_wrong_totp_is_rejected(page: Page, base_url, login_steps, machi_server):
    login_steps.password(page, "chiyoda-kosodate")
    expect(page).to_have_url(f"{base_url}/login/otp/")

    # A code that is none of those accepted now (current step ± 1).
    key, step, t0, digits = machi_server.totp_devices["chiyoda-kosodate"]
    totp = TOTP(key, step, t0, digits)
    totp.time = time.time()
    accepted = {
        f"{totp.token():0{digits}d}",
        f"{TOTP(key, step, t0, digits, drift=-1).token():0{digits}d}",
        f"{TOTP(key, step, t0, digits, drift=1).token():0{digits}d}",
    }
    wrong = next(code for code in ("000000", "111111", "222222", "333333") if code not in accepted)
    login_steps.otp(page, wrong)

    expect(page).to_have_url(f"{base_url}/login/otp/")
    expect(page.get_by_role("alert")).to_contain_text(OTP_ERROR)
    token = page.get_by_label("確認コード（6桁）")
    expect(token).to_be_visible()
    # The home page is still out of reach.
    page.goto(f"/{CHIYODA}/home/")
    expect(page).to_have_url(f"{base_url}/login/otp/")


def test_home_page_needs_the_second_factor(page: Page, base_url, login_steps):
    login_steps.password(page, "sakai-kosodate")
    expect(page).to_have_url(f"{base_url}/login/otp/")

    response = page.goto(f"/{SAKAI}/home/")
    expect(page).to_have_url(f"{base_url}/login/otp/")
    assert response is not None and response.ok
    assert response.request.redirected_from is not None, "expected a redirect to /login/otp/"
    expect(page.get_by_role("heading", level=1)).to_have_text("確認コードの入力")
    expect(page.get_by_text("職員ホーム")).to_have_count(0)


def test_anonymous_visitor_is_sent_to_login(page: Page, base_url):
    page.goto(f"/{CHIYODA}/home/")
    expect(page).to_have_url(f"{base_url}/login/?next=/{CHIYODA}/home/")
    expect(page.get_by_role("heading", level=1)).to_have_text("職員ログイン")


def test_staff_of_another_municipality_gets_the_403_page(signed_in_page, base_url):
    page = signed_in_page("chiyoda-clerk")
    response = page.goto(f"/{SAKAI}/home/")

    assert response is not None
    assert response.status == 403
    expect(page).to_have_url(f"{base_url}/{SAKAI}/home/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=1)).to_have_text("この画面を表示する権限がありません")
    expect(page.get_by_text("エラーコード: 403")).to_be_visible()
    expect(page.get_by_text("堺市")).to_have_count(0)
    # Styled: machi.css is loaded and applied (not the browser's default look).
    stylesheets = page.evaluate(
        "[...document.styleSheets].filter(s => s.href && s.href.includes('/static/machi/'))"
        ".map(s => s.cssRules.length)"
    )
    assert stylesheets and stylesheets[0] > 0, "machi.css is not applied on the 403 page"
    body_margin = page.evaluate("getComputedStyle(document.body).margin")
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert (body_margin, font) != ("8px", "serif"), "the 403 page has the browser's default style"


def test_logout(new_context, base_url, otp_code, login_steps):
    page = new_context().new_page()
    login_steps.sign_in(page, "chiyoda-shimin", otp_code)
    expect(page).to_have_url(f"{base_url}/{CHIYODA}/home/")

    page.get_by_role("button", name="ログアウト").click()

    expect(page).to_have_url(f"{base_url}/login/")
    expect(page.get_by_role("status")).to_contain_text("ログアウトしました。")
    expect(page.get_by_role("button", name="ログアウト")).to_have_count(0)
    page.goto(f"/{CHIYODA}/home/")
    expect(page).to_have_url(f"{base_url}/login/?next=/{CHIYODA}/home/")


def _focused(page: Page) -> dict:
    return page.evaluate(
        "() => { const e = document.activeElement;"
        " return {tag: e.tagName.toLowerCase(), id: e.id, name: e.getAttribute('name'),"
        " text: (e.textContent || '').trim(), href: e.getAttribute('href')}; }"
    )


def test_keyboard_only_login(page: Page, base_url, otp_code):
    page.goto("/login/")
    # The user name field has autofocus: typing can start at once.
    assert _focused(page)["name"] == "username"

    # The skip link is the first stop of the tab order (just before the form here)
    # and moves the focus to <main>.
    page.keyboard.press("Shift+Tab")
    skip = _focused(page)
    assert skip["tag"] == "a" and skip["href"] == "#main", skip
    assert skip["text"] == "本文へ移動"
    expect(page.locator(":focus")).to_be_in_viewport()  # shown when focused
    page.keyboard.press("Shift+Tab")
    assert _focused(page)["tag"] in {"body", "html"}, "something focusable before the skip link"
    page.keyboard.press("Tab")
    assert _focused(page)["href"] == "#main"
    page.keyboard.press("Enter")
    assert _focused(page)["id"] == "main"
    expect(page).to_have_url(re.compile(r"/login/#main$"))

    # From <main>, Tab reaches the form: type, Tab, type, Enter.
    page.keyboard.press("Tab")
    assert _focused(page)["name"] == "username"
    page.keyboard.type("sakai-shimin")
    page.keyboard.press("Tab")
    assert _focused(page)["name"] == "password"
    page.keyboard.type("machi-demo-2026")
    page.keyboard.press("Enter")

    # (The browser keeps the #main fragment across the redirects.)
    expect(page).to_have_url(re.compile(rf"^{re.escape(base_url)}/login/otp/(#main)?$"))
    # The #main fragment makes the browser skip autofocus (HTML spec: a document with a
    # target element runs no autofocus); its sequential focus point is <main>, so one
    # Tab reaches the code field.
    if _focused(page)["name"] != "token":
        page.keyboard.press("Tab")
    assert _focused(page)["name"] == "token"
    page.keyboard.type(otp_code("sakai-shimin"))
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(rf"^{re.escape(base_url)}/{SAKAI}/home/(#main)?$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("堺市")
    # On a signed-in page too (opened afresh, without the #main fragment that moves the
    # sequential focus point into <main>), the first Tab lands on the skip link.
    page.goto(f"{base_url}/{SAKAI}/home/")
    page.keyboard.press("Tab")
    assert _focused(page)["href"] == "#main", _focused(page)
    page.keyboard.press("Enter")
    assert _focused(page)["id"] == "main"


def test_enrolment_with_the_qr_code_secret(page: Page, base_url, login_steps, unenrolled_staff):
    username = unenrolled_staff[0]
    login_steps.password(page, username)
    expect(page).to_have_url(f"{base_url}/login/otp/enrol/")
    expect(page.get_by_role("heading", level=1)).to_have_text("二要素認証の登録")

    qr = page.locator("figure.qr svg")
    expect(qr).to_be_visible()
    expect(qr.locator("title")).to_have_text("認証アプリ登録用のQRコード")
    box = qr.bounding_box()
    assert box and box["width"] >= 100 and box["height"] >= 100, f"QR code too small: {box}"

    secret = page.locator(".secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]+=*", secret), secret
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    code = f"{TOTP(key).token():06d}"

    page.get_by_label("確認コード（6桁）").fill(code)
    page.get_by_role("button", name="登録する").click()

    expect(page).to_have_url(f"{base_url}/{CHIYODA}/home/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("千代田区 職員ホーム")
    expect(page.get_by_role("status")).to_contain_text("二要素認証を登録しました。")
