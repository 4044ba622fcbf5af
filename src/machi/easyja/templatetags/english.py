"""Template library ``english``: Japanese data names in English on English screens.

``{{ task.title|english }}`` (procedures, life events, departments) and
``{{ member.relationship|relationship }}`` (続柄) give the English name
(machi.easyja.english) when English is active; a name the table does not know stays
Japanese inside ``<span lang="ja">`` so screen readers and fonts treat it as Japanese.
In Japanese (and やさしい日本語) the value is shown as it is.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.translation import get_language

from machi.easyja.english import relationship_en, term_en

register = template.Library()


def _show(value: Any, lookup) -> str:
    text = "" if value is None else str(value)
    if not (get_language() or "ja").startswith("en") or not text:
        return conditional_escape(text)
    english = lookup(text)
    if english is None:
        return format_html('<span lang="ja">{}</span>', text)
    return conditional_escape(english)


@register.filter(name="english", is_safe=True)
def english(value: Any) -> str:
    return _show(value, term_en)


@register.filter(name="relationship", is_safe=True)
def relationship(value: Any) -> str:
    return _show(value, relationship_en)
