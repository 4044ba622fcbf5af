"""Template library ``ruby``: the ``lang`` attribute of a language and ふりがな.

``{{ LANGUAGE_CODE|html_lang }}`` gives the BCP 47 tag for a language code
(machi.web.language.html_lang).
"""

from __future__ import annotations

from django import template

from machi.web.language import html_lang as _html_lang

register = template.Library()


@register.filter(name="html_lang")
def html_lang(code: str | None) -> str:
    return _html_lang(code)
