"""The public website in a real browser (issue 14, §1): every public template in 日本語,
やさしい日本語 and English passes axe-core (nothing serious or critical), the language
chosen once with ``?lang=`` is remembered, keyboard-only use reaches the skip link, the
language switch, the menu and the search with a visible focus, text at 200 % loses
nothing at 1280 px, やさしい日本語 pages carry ふりがな, and a page without an English
version says so in English and shows the Japanese marked ``lang="ja"``.

With ``MACHI_A11Y_REPORT=1`` the axe run writes what it tested and found to
``machi/site/data/accessibility.json``, shown on ウェブアクセシビリティ方針.
"""

from __future__ import annotations

import datetime
import os
import re
from xml.etree import ElementTree

import pytest
from playwright.sync_api import Page, expect

from machi.site import accessibility

CHIYODA = "131016"
B = f"/{CHIYODA}"
LANGUAGES = ("ja", "ja-easy", "en")
# What the language switch marks as chosen, in its own language.
SWITCH_NAME = {"ja": "日本語", "ja-easy": "やさしい にほんご", "en": "English"}
HTML_LANG = {"ja": "ja", "ja-easy": "ja", "en": "en"}
NO_RESULTS = "ぬえぬえぬえ"  # a word no demo text contains

# name -> path; the news item's path is read from the news list
TEMPLATES = {
    "top": f"{B}/",
    "page": f"{B}/pages/kurashi/juminhyo/",
    "page, Japanese only": f"{B}/pages/kosodate/jido-teate/",
    "news list": f"{B}/news/",
    "news item": None,
    "search results": f"{B}/search/?q=住民票",
    "search, no results": f"{B}/search/?q={NO_RESULTS}",
    "accessibility policy": f"{B}/accessibility/",
}

H1_SIZE_JS = "parseFloat(getComputedStyle(document.querySelector('h1')).fontSize)"
OVERFLOW_JS = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"

# Elements whose text is cut off: a box that hides its overflow and has more content
# than room (sideways, or downwards for a single line box such as a button).
CLIPPED_JS = """() => {
    const found = [];
    for (const el of document.body.querySelectorAll('*')) {
        const style = getComputedStyle(el);
        if (style.display === 'none' || style.visibility === 'hidden') continue;
        if (!el.textContent.trim() || el.closest('.visually-hidden, .skip-link')) continue;
        const hides = (v) => v === 'hidden' || v === 'clip';
        if ((hides(style.overflowX) && el.scrollWidth > el.clientWidth + 1) ||
            (hides(style.overflowY) && el.scrollHeight > el.clientHeight + 1)) {
            found.push(el.tagName.toLowerCase() + '.' + el.className + ': ' +
                       el.textContent.trim().slice(0, 40));
        }
    }
    return found;
}"""

FOCUS_JS = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    const shadow = style.boxShadow && style.boxShadow !== 'none';
    const rect = el.getBoundingClientRect();
    return {
        tag: el.tagName.toLowerCase(), id: el.id, text: (el.textContent || '').trim(),
        inSwitch: !!el.closest('.lang-switch'), inNav: !!el.closest('.public-nav'),
        visible: outline || shadow,
        onScreen: rect.width > 0 && rect.height > 0 && rect.top >= 0 &&
                  rect.bottom <= window.innerHeight,
    };
}"""


def _news_item_path(page: Page) -> str:
    page.goto(f"{B}/news/")
    href = page.locator(".news-list a").first.get_attribute("href")
    assert href and re.fullmatch(rf"{B}/news/\d+/", href), href
    return href


def _switch(page: Page, language: str, path: str = f"{B}/") -> None:
    """Choose *language* once with ?lang=: the redirect drops the parameter."""
    page.goto(f"{path}?lang={language}")
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    _expect_language(page, language)


def _expect_language(page: Page, language: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[language])
    chosen = page.locator(".lang-switch [aria-current='true']")
    expect(chosen).to_have_text(SWITCH_NAME[language])


def test_every_public_template_in_three_languages(page: Page, checks, machi_production_server):
    """One load per template and language; the language set once is kept on every
    later page (and on the 404 page)."""
    page.set_viewport_size({"width": 1280, "height": 800})
    checks.watched(page)
    paths = {**TEMPLATES, "news item": _news_item_path(page)}
    rows = []
    for language in LANGUAGES:
        _switch(page, language)
        for name, path in paths.items():
            if name != "top":
                page.goto(path)
            _expect_language(page, language)  # remembered, not asked again
            expect(page.locator("h1")).to_have_count(1)
            rows.append(_check(page, checks, name, language))
        # The real 404 page (without DEBUG): the language is a cookie of the host.
        response = page.goto(f"{machi_production_server}{B}/pages/no-such-page/")
        assert response is not None and response.status == 404
        expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[language])
        rows.append(_check(page, checks, "404", language))
    _switch(page, "ja")
    if os.environ.get("MACHI_A11Y_REPORT") == "1":
        accessibility.report_write(
            {
                "date": datetime.date.today().isoformat(),
                "tool": "axe-core (WCAG 2.2 AA), Chromium",
                "serious": sum(row["serious"] for row in rows),
                "pages": rows,
            }
        )
    checks.assert_clean()


def _check(page: Page, checks, name: str, language: str) -> dict:
    """axe-core once and the page watcher (checks.check's findings, without a second
    axe run); returns the row of the accessibility report."""
    axe = checks.run_axe(page)
    where = f"{name} ({language})"
    if axe.blocking:
        checks.problems.append(
            f"{where} ({page.url}): axe-core (serious/critical):\n{axe.describe(axe.blocking)}"
        )
    if minor := [v for v in axe.violations if v not in axe.blocking]:
        print(f"\n[{where}] axe-core findings below 'serious':\n{axe.describe(minor)}")
    watcher = checks.watchers[id(page)]
    if found := watcher.problems():
        checks.problems.append(f"{where} ({page.url}):\n" + "\n".join(found))
    watcher.csp_violations.clear()
    watcher.page_errors.clear()
    watcher.foreign_requests.clear()
    return {
        "template": name,
        "language": language,
        "serious": len(axe.blocking),
        "other": len(axe.violations) - len(axe.blocking),
    }


def test_the_sitemap_lists_the_public_pages(page: Page, base_url):
    response = page.request.get(f"{B}/sitemap.xml")
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/xml")
    root = ElementTree.fromstring(response.body())  # noqa: S314 - our own server
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    locations = {loc.text for loc in root.iter(f"{ns}loc")}
    for path in (f"{B}/", f"{B}/news/", f"{B}/accessibility/", f"{B}/pages/kurashi/juminhyo/"):
        assert f"{base_url}{path}" in locations


def test_keyboard_only(page: Page):
    """Tab from the top: the skip link first (visible when focused, it moves the focus
    to the main part), then the language switch, the menu and the search, each with a
    visible focus; a search typed and sent with Enter."""
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{B}/")
    page.keyboard.press("Tab")
    first = page.evaluate(FOCUS_JS)
    assert first["text"] == "本文へ移動", first
    assert first["visible"] and first["onScreen"], f"the skip link is not shown: {first}"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    assert page.evaluate("document.activeElement.id") == "main"

    page.goto(f"{B}/")
    reached = {"switch": False, "nav": False, "search": False}
    unseen = []
    for _ in range(30):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_JS)
        if focus is None:
            continue
        if not (focus["visible"] and focus["onScreen"]):
            unseen.append(focus)
        reached["switch"] |= focus["inSwitch"]
        reached["nav"] |= focus["inNav"]
        reached["search"] |= focus["id"] == "site-search-q"
        if all(reached.values()):
            break
    assert all(reached.values()), f"not reached by Tab: {reached}"
    assert not unseen, f"focus not visible on: {unseen}"
    page.locator("#site-search-q").focus()
    page.keyboard.type("住民票")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q="))
    expect(page.get_by_role("heading", level=2)).to_contain_text("件見つかりました")

    # The language switch works from the keyboard too (and is remembered).
    page.locator(".lang-switch a[hreflang='en']").focus()
    page.keyboard.press("Enter")
    _expect_language(page, "en")
    page.goto(f"{B}/?lang=ja")


@pytest.mark.parametrize("language", ["ja", "en"])
def test_text_at_200_percent_loses_nothing(page: Page, language):
    """WCAG 1.4.4: the root font size doubled at 1280 px: the text really grows, no page
    scrolls sideways and no box cuts its text off."""
    page.set_viewport_size({"width": 1280, "height": 800})
    paths = {**TEMPLATES, "news item": _news_item_path(page)}
    _switch(page, language)
    problems = []
    for name, path in paths.items():
        page.goto(path)
        before = page.evaluate(H1_SIZE_JS)
        page.evaluate("document.documentElement.style.fontSize = '200%'")
        after = page.evaluate(H1_SIZE_JS)
        if after < 1.9 * before:
            problems.append(f"{name}: the heading grew from {before}px to {after}px only")
        if not page.evaluate(OVERFLOW_JS):
            width = page.evaluate("document.documentElement.scrollWidth")
            problems.append(f"{name}: scrolls sideways ({width}px wide at 1280px)")
        if clipped := page.evaluate(CLIPPED_JS):
            problems.append(f"{name}: text cut off: {clipped}")
    _switch(page, "ja")
    assert not problems, "\n".join(problems)


def test_easy_japanese_has_readings_and_english_says_it_shows_japanese(page: Page):
    # 児童手当 has only its Japanese text: in やさしい日本語 it is shown with ふりがな over
    # the kanji beyond grade 2 (児 is grade 4), with the notice in やさしい日本語.
    _switch(page, "ja-easy", f"{B}/pages/kosodate/jido-teate/")
    body = page.locator(".page-body")
    expect(body).to_have_attribute("lang", "ja")
    notice = page.locator(".language-fallback")
    expect(notice).to_contain_text("やさしい にほんごに なって いません")
    expect(body.locator("ruby").first).to_be_visible()
    readings = body.locator("ruby").evaluate_all(
        "rubies => rubies.map(r => [r.firstChild.textContent, r.querySelector('rt').textContent])"
    )
    assert ["申請", "しんせい"] in readings or ["申", "しん"] in readings, readings
    # the menu, written in やさしい日本語, and the switch keep their text
    expect(page.locator(".lang-switch ruby")).to_have_count(0)

    # In English: the notice in English, the Japanese marked as Japanese, no ruby.
    _switch(page, "en", f"{B}/pages/kosodate/jido-teate/")
    notice = page.locator(".language-fallback")
    expect(notice).to_have_text(
        "This page is not available in English yet; it is shown in Japanese."
    )
    assert notice.evaluate("el => el.closest('[lang]').getAttribute('lang')") == "en"
    expect(page.locator("h1")).to_have_attribute("lang", "ja")
    expect(body).to_have_attribute("lang", "ja")
    expect(body).to_contain_text("中学生")
    expect(page.locator("ruby")).to_have_count(0)
    # a page with its English version: no notice
    page.goto(f"{B}/pages/kurashi/juminhyo/")
    expect(page.locator("h1")).to_have_text("Getting a copy of your residence certificate")
    expect(page.locator(".language-fallback")).to_have_count(0)
    page.goto(f"{B}/?lang=ja")


# --- typed markup never runs (the OWASP filter-evasion cases) --------------------------

XSS_SEED = """
from machi.accounts.models import Staff
from machi.announce.delivery import deliveries_run
from machi.announce.services import announcement_create, announcement_publish
from machi.site import services
from machi.site.models import Version
from machi.tenancy.context import tenant_context
from machi.testing.xss import XSS_CASES

author = Staff.objects.get(username="chiyoda-koho")
approver = Staff.objects.get(username="chiyoda-koho-lead")
with tenant_context("131016"):
    # a page whose body holds every case, written by the author, approved by the approver
    page = services.page_create(actor=author, parent=None, slug="xss-e2e",
        title={"ja": "入力の確認"}, body={"ja": "\\n\\n".join(XSS_CASES)})
    version = Version.objects.filter(page=page).get()
    services.version_approve(actor=approver,
                             version=services.version_submit(actor=author, version=version))
    # one announcement per case, the case in its title (the website's news gets them)
    for case in XSS_CASES:
        a = announcement_create(actor=author, title={"ja": "お知らせ" + case},
                                body={"ja": "本文"}, category="kurashi")
        a = announcement_publish(announcement=a, actor=approver)
        deliveries_run(announcement_id=a.pk)
    print(a.pk)
"""

# The parsed page, not its source text: what in <main> could run script. (Escaped
# text such as "&lt;img onerror=…&gt;" is text to the browser and is not found.)
ACTIVE_JS = """() => {
    const found = [];
    const main = document.querySelector('main');
    const urlAttrs = ['href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'srcdoc'];
    for (const el of main.querySelectorAll('*')) {
        const tag = el.tagName.toLowerCase();
        if (['script', 'iframe', 'object', 'embed', 'meta', 'base', 'style', 'frame', 'svg',
             'math', 'link'].includes(tag)) {
            found.push('<' + tag + '>');
        }
        for (const attr of el.attributes) {
            const name = attr.name.toLowerCase();
            const value = attr.value.replace(/[\\u0000-\\u0020]/g, '').toLowerCase();
            if (name.startsWith('on')) found.push(tag + '[' + name + ']');
            if (name === 'style' && /url\\(|expression/.test(value)) found.push(tag + '[style]');
            if (urlAttrs.includes(name) && /^(javascript|vbscript|data):/.test(value)) {
                found.push(tag + '[' + name + '=' + attr.value.slice(0, 30) + ']');
            }
        }
    }
    return found;
}"""


def test_typed_markup_never_runs(page: Page, machi_server):
    """The cases typed by the web author as a page body and as announcement titles,
    approved and published, then opened by a resident in Chromium: the hook the cases
    call is never called, and <main> holds no element, handler or URL that could run
    script; the announcement titles show the typed text as text."""
    from machi.testing.xss import XSS_CASES, XSS_HOOK

    last = int(machi_server.machi("shell", "-c", XSS_SEED).strip().splitlines()[-1])
    page.add_init_script(XSS_HOOK)
    views = {
        "page body": f"{B}/pages/xss-e2e/",
        "news list": f"{B}/news/",
        "announcements": f"{B}/announcements/",
        "announcement": f"{B}/announcements/{last}/",
    }
    problems = []
    for name, path in views.items():
        page.goto(path)
        page.wait_for_load_state("load")
        # what a visitor does: point at and focus everything in the main part
        for target in page.locator("main a, main img, main details, main input").all():
            if target.is_visible():
                target.hover()
                target.focus()
        if hits := page.evaluate("window.__xssHits"):
            problems.append(f"{name}: cases ran: {hits}")
        if active := page.evaluate(ACTIVE_JS):
            problems.append(f"{name}: active markup: {active}")
        if name == "announcements":
            # as text; the page's white-space: normal shows a run of spaces as one
            text = " ".join(page.locator("main").inner_text().split())
            typed = {case: " ".join(f"お知らせ{case}".split()) for case in XSS_CASES}
            if unseen := [case for case, title in typed.items() if title not in text]:
                problems.append(f"{name}: titles not shown as typed: {unseen}")
    # the news item the announcement became
    page.goto(f"{B}/news/")
    page.locator(".news-list a").first.click()
    expect(page.locator("h1")).to_contain_text(f"お知らせ{XSS_CASES[-1]}")
    if hits := page.evaluate("window.__xssHits"):
        problems.append(f"news item: cases ran: {hits}")
    if active := page.evaluate(ACTIVE_JS):
        problems.append(f"news item: active markup: {active}")
    assert not problems, "\n".join(problems)
