"""``{{ item|site_title:language }}``: a page's or news item's title in the visitor's
language, or the Japanese marked ``lang="ja"`` when there is none in theirs."""

from __future__ import annotations

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def site_title(item, language: str) -> SafeString:
    text, found = item.text("title", language)
    if found != language and language != "ja":
        return format_html('<span lang="ja">{}</span>', text)
    return escape(text)
