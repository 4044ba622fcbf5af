"""The one template filter for dates: ``{{ value|jdate }}`` / ``{{ value|jdate:"both" }}``.

Registered as a builtin (settings TEMPLATES), so every template has it without
``{% load %}``. It only picks the language; the form itself is
:func:`machi.japanese.format_date`, shared with PDFs and CSV.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import template
from django.utils import translation

from machi.japanese import DateParseError, JapaneseDate, format_date

register = template.Library()


@register.filter(name="jdate")
def jdate(value: Any, arg: str = "") -> str:
    """和暦 (``"both"``: with the 西暦), or ``1 Dec 2026`` when English is active.

    Accepts a date, a datetime (its local date), a :class:`JapaneseDate`, or
    the ISO text and dicts dates are stored as in JSON; anything else is shown
    as empty rather than as unchecked text.
    """
    if value in (None, ""):
        return ""
    day: datetime.date | JapaneseDate
    if isinstance(value, datetime.datetime):
        from django.utils import timezone

        day = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    elif isinstance(value, (datetime.date, JapaneseDate)):
        day = value
    elif isinstance(value, str):
        try:
            day = datetime.date.fromisoformat(value)
        except ValueError:
            return ""
    elif isinstance(value, dict):
        try:
            day = JapaneseDate.from_dict(value)
        except (KeyError, ValueError, DateParseError):
            return ""
    else:
        return ""
    return format_date(day, both=arg == "both", language=translation.get_language() or "ja")
