"""The public calendar and event page: the month table, the category filter, the three
languages with the Japanese fallback notice, and typed text shown inert (OWASP cases)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from machi.localevents.tests.conftest import A, day
from machi.testing.xss import XSS_CASES

pytestmark = pytest.mark.django_db(databases="__all__")
ACTIVE = {"script", "iframe", "object", "embed", "svg", "math", "img", "style", "meta", "base",
          "details", "body"}  # fmt: skip


class _Elements(HTMLParser):
    """Every element the browser would build: typed text must have made none."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list]] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.found.append((tag, attrs))


def assert_escaped(html: str) -> None:
    parser = _Elements()
    parser.feed(html)
    for tag, attrs in parser.found:
        assert tag not in ACTIVE, (tag, attrs)
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            assert "__xss" not in (value or ""), (tag, name, value)
            assert not (value or "").strip().lower().startswith(("javascript:", "data:"))


def test_month_table_and_filter(client, make_event):
    make_event(title={"ja": "夏祭り"})
    make_event(title={"ja": "スマホ講座"}, category="kouza")
    html = client.get(f"/{A}/events/?month={day():%Y-%m}").content.decode()
    assert "<caption>" in html and '<th scope="col" class="le-sun">' in html
    assert "夏祭り" in html and "スマホ講座" in html
    only = client.get(f"/{A}/events/?month={day():%Y-%m}&category=kouza").content.decode()
    assert "スマホ講座" in only and "夏祭り" not in only
    assert client.get(f"/{A}/events/?category=nonesuch").status_code == 404
    assert client.get(f"/{A}/events/?month=garbage").status_code == 200  # this month


def test_languages_and_fallback_notice(client, make_event):
    both = make_event(title={"ja": "夏祭り", "en": "Summer festival"},
                      description={"ja": "盆踊りです。", "en": "Bon dancing."})  # fmt: skip
    only_ja = make_event(title={"ja": "植木市"})
    client.get(f"/{A}/events/?lang=en")
    page = client.get(f"/{A}/events/{both.pk}/").content.decode()
    assert "Summer festival" in page and "Bon dancing." in page
    assert "not available in English" not in page
    page = client.get(f"/{A}/events/{only_ja.pk}/").content.decode()
    assert "This page is not available in English yet; it is shown in Japanese." in page
    assert '<h1 lang="ja">植木市</h1>' in page
    client.get(f"/{A}/events/?lang=ja-easy")
    page = client.get(f"/{A}/events/{only_ja.pk}/").content.decode()
    assert "やさしい にほんごに なって いません" in page


@pytest.mark.parametrize("case", XSS_CASES)
def test_typed_text_is_inert(client, make_event, case):
    from machi.tenancy.context import tenant_context

    # Straight through the services (the form refuses tags): what gets stored is shown
    # escaped on every page that shows it.
    event = make_event(title={"ja": "夏祭り"})
    with tenant_context(A):
        event.title = {"ja": case, "en": case}
        event.description = {"ja": case}
        event.place_name = case
        event.save()
    for url in (f"/{A}/events/{event.pk}/", f"/{A}/events/?month={day():%Y-%m}",
                f"/{A}/events/{event.pk}/report/"):  # fmt: skip
        html = client.get(url).content.decode().split('<main id="main"', 1)[1]
        assert "<" not in case or case not in html  # markup comes out escaped
        assert_escaped(html)


def test_form_refuses_markup(client):
    from machi.localevents.tests.conftest import form_data

    response = client.post(f"/{A}/events/new/", form_data(title_ja=XSS_CASES[0]))
    assert response.status_code == 400
    html = response.content.decode()
    assert XSS_CASES[0] not in html and "&lt;script&gt;window.__xss(0)" in html
