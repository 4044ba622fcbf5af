"""Template library ``ruby``: ふりがな for やさしい日本語, and the ``lang`` of a language.

* ``{{ text|ruby }}``: *text* escaped; in やさしい日本語 (``ja-easy``) with ``<ruby>``
  readings on the kanji above the municipality's grade (machi.easyja). Safe markup
  (already escaped or sanitised) is treated like ``|ruby_html``.
* ``{{ html|ruby_html }}``: already sanitised HTML, readings added to its text nodes
  only (never to tags or attributes); in other languages the HTML as it is.
* ``{% rubyblock %}…{% endrubyblock %}``: the same for a rendered part of a template
  (``base.html`` wraps the main content of every page in it, so resident pages get
  ふりがな in ja-easy without each template asking).
* ``{{ LANGUAGE_CODE|html_lang }}``: the BCP 47 tag (machi.web.language.html_lang).

In Japanese and English nothing changes, so a template may use the filters on every
page. Elements marked ``lang`` other than Japanese, or ``data-ruby="off"``, keep their
text as it is.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.translation import get_language

from machi.japanese.ruby import html_ruby, text_html
from machi.tenancy.context import NoTenantError
from machi.web.language import html_lang as _html_lang

register = template.Library()

EASY = "ja-easy"


def _config():
    from machi.easyja.selectors import RubyConfig, ruby_config

    try:
        return ruby_config()
    except NoTenantError:  # a page outside any municipality (platform pages)
        return RubyConfig()


def _easy() -> bool:
    return get_language() == EASY


def add_ruby(markup: str) -> SafeString:
    """Sanitised *markup* with readings (in any language: callers check)."""
    config = _config()
    # only text nodes changed, each escaped again; the tags are the caller's safe markup
    readings = html_ruby(markup, grade=config.grade, corrections=config.corrections)
    return mark_safe(readings)  # noqa: S308


@register.filter(name="ruby", is_safe=True)
def ruby(value: Any) -> SafeData | str:
    if value is None:
        value = ""
    if isinstance(value, SafeData):
        return add_ruby(str(value)) if _easy() else value
    if not _easy():
        return conditional_escape(str(value))
    config = _config()
    readings = text_html(str(value), grade=config.grade, corrections=config.corrections)
    return mark_safe(readings)  # noqa: S308 - text_html escapes the text and its readings


@register.filter(name="ruby_html", is_safe=True)
def ruby_html(value: Any) -> SafeString:
    markup = "" if value is None else str(value)
    # the caller vouches for the markup, as with |safe (it comes from the sanitiser)
    return add_ruby(markup) if _easy() else mark_safe(markup)  # noqa: S308


class RubyBlockNode(template.Node):
    def __init__(self, nodelist: template.NodeList) -> None:
        self.nodelist = nodelist

    def render(self, context: template.Context) -> str:
        rendered = self.nodelist.render(context)
        # A page shown in Japanese only (machi.web.language.shown_in_japanese) still gets
        # its ふりがな for a resident who chose やさしい日本語.
        chosen = getattr(context.get("request"), "resident_language", None)
        return add_ruby(rendered) if _easy() or chosen == EASY else rendered


@register.tag(name="rubyblock")
def rubyblock(parser: template.base.Parser, token: template.base.Token) -> RubyBlockNode:
    nodelist = parser.parse(("endrubyblock",))
    parser.delete_first_token()
    return RubyBlockNode(nodelist)


@register.filter(name="html_lang")
def html_lang(code: str | None) -> str:
    return _html_lang(code)
