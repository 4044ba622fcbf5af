"""The charts' SVG works when inlined under the site's CSP (style-src 'self'): no style
attribute or element, the colours as presentation attributes, ids unique per chart, and
the accessible name and description kept."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from machi.analytics.charts import PALETTE, Chart, Series, csp_safe_svg

SVG = "{http://www.w3.org/2000/svg}"


def _chart(slug="demo", kind="bar"):
    extra = {"lower": [1, 2, None], "upper": [3, 4, None]} if kind == "band" else {}
    return Chart(
        kind=kind,
        slug=slug,
        title="時間帯別の来庁者数",
        description="9時台が最も多い。",
        x_label="時間帯",
        y_label="件数",
        categories=["9時台", "10時台", "11時台"],
        series=[Series("来庁受付", [12, 30, None])]
        + ([Series("整理券", [5, None, 7])] if kind != "band" else []),
        **extra,
    )


def test_no_style_attribute_or_element_in_any_kind():
    for kind in ("bar", "line", "band"):
        text = _chart(kind=kind).svg()
        assert not re.search(r"\sstyle\s*=", text), kind
        assert "<style" not in text, kind
        assert "<metadata" not in text
        ET.fromstring(text.encode())  # noqa: S314 - our own SVG: still well-formed XML


def test_the_styles_become_presentation_attributes():
    text = _chart().svg()
    root = ET.fromstring(text.encode())  # noqa: S314 - our own SVG
    fills = {el.get("fill") for el in root.iter() if el.get("fill")}
    assert PALETTE[0].lower() in fills and PALETTE[1].lower() in fills
    texts = [el for el in root.iter(f"{SVG}text")]
    assert texts and all(el.get("font-size") for el in texts)
    assert any(el.get("text-anchor") == "middle" for el in texts)
    # the <style> element's defaults (`*{stroke-linejoin: round; stroke-linecap: butt}`)
    # are on every drawing element that does not set its own
    paths = list(root.iter(f"{SVG}path")) + list(root.iter(f"{SVG}use"))
    assert paths and all(el.get("stroke-linejoin") for el in paths)
    assert all(el.get("stroke-linecap") for el in paths)
    assert any(el.get("stroke-linecap") == "square" for el in paths)  # the grid's own


def test_the_conversion_keeps_own_values_and_escapes():
    source = (
        '<svg xmlns="http://www.w3.org/2000/svg"><defs><style type="text/css">'
        "*{stroke-linejoin: round; stroke-linecap: butt}</style></defs>"
        '<g id="a"><path id="p" style="fill: #fff; stroke-linecap: square" d="M0 0"/>'
        "<text style=\"font-family: 'Noto Sans CJK JP'\">x</text>"
        '<use xlink:href="#p" clip-path="url(#a)"/></g></svg>'
    )
    out = csp_safe_svg(source, "c-")
    assert "<style" not in out and "style=" not in out
    assert (
        '<path id="c-p" d="M0 0" stroke-linejoin="round" stroke-linecap="square" fill="#fff"/>'
        in out
    )
    assert "font-family=\"'Noto Sans CJK JP'\"" in out
    assert 'xlink:href="#c-p"' in out and 'clip-path="url(#c-a)"' in out
    assert '<g id="c-a">' in out  # a group takes no defaults


def test_title_desc_and_role_are_kept_and_ids_do_not_collide():
    one, two = _chart("one").svg_inline(), _chart("two").svg_inline()
    assert one.startswith("<svg")
    root = ET.fromstring(one.encode())  # noqa: S314 - our own SVG
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-one-title chart-one-desc"
    assert root.find(f"{SVG}title").text == "時間帯別の来庁者数"
    assert root.find(f"{SVG}desc").text == "9時台が最も多い。"
    ids_one = set(re.findall(r'\sid="([^"]+)"', one))
    ids_two = set(re.findall(r'\sid="([^"]+)"', two))
    assert ids_one and not ids_one & ids_two
    assert all(i.startswith("chart-one-") for i in ids_one)
    # every reference points at an id of the same chart
    refs = set(re.findall(r'(?:url\(#|href="#)([^)"]+)', one))
    assert refs and refs <= ids_one
