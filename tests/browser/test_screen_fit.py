"""Every staff page fits the screens the counters use: 1280×800 and 1024×768.

The pages are read from the URL configuration (every GET route under /<lg_code>/ that is
not public and not the API), with real objects of 千代田区 for the routes that take an id
(``machi.web.tests.objects``, the isolation test's factories, run on the server's data).
A route that answers a fragment (htmx), a download or 405 is not a page and is listed,
not shot. Each page is loaded once and checked by axe-core's WCAG rules and the page watcher
(CSP, JavaScript errors, foreign hosts); at each size, no horizontal scrolling
(``scrollWidth <= clientWidth`` of the document); a full-page screenshot at 1024×768 is kept
under ``$MACHI_TEST_ARTIFACTS/screens/`` (default ``var/test-artifacts/screens/``).

One signed-in page does it all: a new route is covered without touching this test.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from django.urls import resolve
from playwright.sync_api import Page, expect

from machi.web.tests.objects import has_id, tenant_routes, url_of

CHIYODA = "131016"
USERNAME = "e2e-screens"
DEMO_PASSWORD = "machi-demo-2026"  # conftest's; the test modules can't import conftest
SIZES = [(1280, 800), (1024, 768)]
REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("MACHI_TEST_ARTIFACTS") or REPO_ROOT / "var" / "test-artifacts")
SCREENS = ARTIFACTS / "screens"

OVERFLOW_JS = """() => {
    const root = document.documentElement;
    const wide = [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > root.clientWidth + 1)
        .slice(0, 5)
        .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
             + (e.className && typeof e.className === 'string'
                ? '.' + e.className.trim().split(/\\s+/).join('.') : ''));
    return {scroll: root.scrollWidth, client: root.clientWidth, wide};
}"""


@pytest.fixture(scope="module")
def screen_world(machi_server) -> dict[str, dict]:
    """A staff member of 千代田区 with every role (TOTP device confirmed), and the objects
    of the id routes made on the server's data: route -> URL arguments."""
    script = f"""
import json
from django_otp.plugins.otp_totp.models import TOTPDevice
from machi.accounts.roles import Role
from machi.accounts.services import staff_create
from machi.linkage.tests.receiver import Receiver
from machi.linkage.webhooks import secret_generate
from machi.tenancy.models import Municipality
from machi.web.tests.objects import ID_ROUTES, World

roles = [("shimin", role) for role in Role.values] + [("kosodate", "department_staff")]

def member(lg_code, username):
    return staff_create(
        username=username, display_name="画面 確認", password={DEMO_PASSWORD!r},
        municipality=Municipality.objects.get(lg_code=lg_code), memberships=roles,
        reveal_my_number_departments=frozenset({{"shimin"}}),
    )

staff = member({CHIYODA!r}, {USERNAME!r})
device = TOTPDevice.objects.create(user=staff, name="e2e", confirmed=True)
receiver = Receiver(secret=secret_generate()).start()
try:
    home = World(lg_code={CHIYODA!r}, staff=staff, receiver=receiver)
    peer = World(lg_code="271403", staff=member("271403", "e2e-screens-b"), receiver=receiver)
    home.peer, peer.peer = peer, home
    kwargs = {{route: spec.kwargs(home) for route, spec in ID_ROUTES.items()
              if spec.page and spec.method == "get" and not spec.api}}
finally:
    receiver.stop()
print(json.dumps({{"device": [device.key, device.step, device.t0, device.digits],
                  "kwargs": kwargs}}))
"""
    made = json.loads(machi_server.machi("shell", "-c", script).strip().splitlines()[-1])
    key, step, t0, digits = made["device"]
    machi_server.totp_devices[USERNAME] = (bytes.fromhex(key), step, t0, digits)
    return made["kwargs"]


def staff_page_urls(kwargs: dict[str, dict]) -> list[str]:
    """Every GET candidate under /131016/ for staff: not the API, not the public views."""
    urls = []
    for route in tenant_routes():
        if route.startswith("api/"):
            continue
        if has_id(route):
            if route not in kwargs:  # a POST route, a PDF, the API: not a page to look at
                continue
            url = url_of(route, CHIYODA, kwargs[route])
        else:
            url = url_of(route, CHIYODA)
        if getattr(resolve(url).func, "machi_public", False):
            continue
        urls.append(url)
    return urls


def _shot_name(url: str, size: tuple[int, int]) -> str:
    slug = re.sub(r"[^0-9A-Za-z_-]+", "_", url.strip("/")) or "home"
    return f"{slug}-{size[0]}x{size[1]}.png"


def _fit(page: Page, where: str, size: tuple[int, int]) -> str | None:
    """Set ``size``, screenshot, and the overflow found (None when the page fits)."""
    page.set_viewport_size({"width": size[0], "height": size[1]})
    measured = page.evaluate(OVERFLOW_JS)
    if size == SIZES[-1]:  # the narrower screen is the one to look at; shots cost ~0.3 s
        page.screenshot(path=str(SCREENS / _shot_name(where, size)), full_page=True)
    if measured["scroll"] > measured["client"]:
        return (
            f"{where} at {size[0]}×{size[1]}: scrollWidth {measured['scroll']} > clientWidth "
            f"{measured['client']}; wider than the window: {measured['wide']}"
        )
    return None


def test_every_staff_page_fits_both_screens(signed_in_page, screen_world, checks):
    SCREENS.mkdir(parents=True, exist_ok=True)
    page = checks.watched(signed_in_page(USERNAME))
    overflows, not_pages, shot = [], [], 0
    for url in staff_page_urls(screen_world):
        probe = page.request.get(url)
        content_type = probe.headers.get("content-type", "")
        if probe.status != 200 or not content_type.startswith("text/html"):
            not_pages.append(f"{url} ({probe.status} {content_type.split(';')[0]})")
            continue
        if "<html" not in probe.text()[:500].lower():
            not_pages.append(f"{url} (a fragment)")
            continue
        # One load and one axe run a page; the second size is a resize of the same page
        # (the layout follows the media queries without reloading).
        page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
        response = page.goto(url)
        assert response is not None and response.status == 200, (url, response)
        checks.check(page, url)
        for size in SIZES:
            overflows.append(_fit(page, url, size))
            shot += 1
    print(f"\nscreenshots of {shot // len(SIZES)} staff pages in {SCREENS}")
    print("not pages (not shot):\n  " + "\n  ".join(not_pages))
    assert shot >= 2 * 15, f"only {shot} screenshots: did the page list break?"
    problems = [o for o in overflows if o]
    assert not problems, "\n".join(problems) + f"\n(screenshots in {SCREENS})"
    checks.assert_clean()


def test_the_intake_preview_fits_both_screens(signed_in_page, screen_world, checks):
    """Step 4's procedure table (long procedure names, persons, deadlines) wraps
    instead of widening the page."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    page = checks.watched(signed_in_page(USERNAME))
    page.set_viewport_size({"width": SIZES[-1][0], "height": SIZES[-1][1]})
    page.goto(f"/{CHIYODA}/counter/intake/")
    heading = page.locator("#intake-heading")
    page.get_by_label("転入", exact=True).check()
    page.locator("#id_date").fill("令和8年4月3日")
    page.get_by_role("button", name="次へ（人）").click()
    expect(heading).to_have_text("2. 転入する人")
    newcomers = [
        ("髙橋 一郎", "タカハシ イチロウ", "男", "1985-06-15", "世帯主"),
        ("髙橋 陽太", "タカハシ ヨウタ", "男", "2018-01-10", "子"),
    ]
    for i, (name, kana, sex, birth, relationship) in enumerate(newcomers):
        if i:
            page.get_by_role("button", name="＋ 人を追加").click()
            expect(page.locator(f"#id_n{i}-name")).to_be_focused()
        page.locator(f"#id_n{i}-name").fill(name)
        page.locator(f"#id_n{i}-kana").fill(kana)
        page.locator(f"#id_n{i}-sex").select_option(label=sex)
        page.locator(f"#id_n{i}-birth_date").fill(birth)
        page.locator(f"#id_n{i}-relationship").fill(relationship)
    page.get_by_role("button", name="次へ（確認事項）").click()
    expect(heading).to_have_text("3. 確認事項（住民記録ではわからないこと）")
    for i in range(len(newcomers)):
        page.locator(f"#id_q-n{i}-insurance").select_option("kokuho")
    for field, value in {
        "postal_code": "100-0001", "prefecture": "東京都", "city": "千代田区",
        "machiaza": "千代田", "banchi": "1-1",
        "previous_address": "大阪府堺市堺区南瓦町3-1",
    }.items():  # fmt: skip
        page.locator(f"#id_address-{field}").fill(value)
    notifier = page.get_by_label(f"{newcomers[0][0]}（世帯主）")
    if notifier.count():  # the 届出人, where the step asks for one
        notifier.check()
    page.get_by_role("button", name="次へ（手続きを確認する）").click()
    expect(heading).to_have_text("4. 手続き一覧（確定前の確認）")
    expect(page.locator("table.intake-procedures").first).to_be_visible()
    overflows = [_fit(page, "/131016/counter/intake/step-4-preview/", size) for size in SIZES]
    checks.check(page, "intake step 4 (preview)")
    problems = [o for o in overflows if o]
    assert not problems, "\n".join(problems) + f"\n(screenshots in {SCREENS})"
    checks.assert_clean()
