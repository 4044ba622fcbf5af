"""The counter dashboard in a real browser: the inlined chart keeps its colours under
the site's CSP (style-src 'self'), no securitypolicyviolation event fires, and axe-core
finds nothing serious."""

from __future__ import annotations

from playwright.sync_api import Page, expect

# Recorded from the first script of every document (an init script runs outside the
# page's CSP): every securitypolicyviolation the page raises.
LISTEN = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`);
});
"""


def test_counter_dashboard_chart_renders_under_the_csp(signed_in_page, base_url, watch, check_page):
    page: Page = signed_in_page("chiyoda-admin")
    page.add_init_script(LISTEN)
    watcher = watch(page)
    page.goto("/131016/analytics/counter/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("窓口")
    chart = page.locator("#section-hourly svg[role=img]")
    expect(chart).to_be_visible()
    expect(page.locator("#table-hourly caption")).to_contain_text("時間帯別")
    # The bars are drawn in the palette's first colour (a presentation attribute); had
    # a style attribute been blocked they would be black.
    fills = chart.evaluate(
        "svg => [...svg.querySelectorAll('path, use, rect')].map(el => getComputedStyle(el).fill)"
    )
    assert "rgb(0, 114, 178)" in fills or "rgb(230, 159, 0)" in fills, fills
    font = chart.locator("text").first.evaluate("el => getComputedStyle(el).fontSize")
    assert font == "10px"
    assert page.evaluate("window.__cspViolations") == []
    check_page(page, watcher, "counter dashboard")
