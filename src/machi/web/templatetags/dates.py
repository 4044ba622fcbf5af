"""The one template filter for dates and moments: ``{{ value|jdate }}``.

Registered as a builtin (settings TEMPLATES), so every template has it without
``{% load %}``. It only picks the language and the local time; the forms
themselves are :func:`machi.japanese.format_date` and
:func:`machi.japanese.format_datetime`, shared with PDFs and CSV.

The argument is a comma-separated set of options:

* ``"both"``: the 西暦 in brackets after the 和暦, for staff (``令和8年12月1日（2026年12月1日）``);
* ``"time"``: a datetime with its local clock time (``令和8年12月1日 14:05``);
* ``"seconds"``: the same with seconds (implies ``time``), for the audit log.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import template
from django.utils import timezone, translation

from machi.japanese import (
    DateParseError,
    JapaneseDate,
    format_date,
    format_datetime,
    format_seireki,
)

register = template.Library()

_OPTIONS = frozenset({"both", "time", "seconds"})


def _options(arg: str) -> frozenset[str]:
    options = frozenset(part.strip() for part in arg.split(",") if part.strip())
    unknown = options - _OPTIONS
    if unknown:
        # A typo in a template would silently drop the 西暦 or the time otherwise.
        known = ", ".join(sorted(_OPTIONS))
        raise template.TemplateSyntaxError(
            f"jdate: unknown option(s) {', '.join(sorted(unknown))}; use {known}"
        )
    return options


@register.filter(name="jdate")
def jdate(value: Any, arg: str = "") -> str:
    """和暦 (``"both"``: with the 西暦), or ``1 Dec 2026`` when English is active.

    Accepts a date, a datetime (its local date, or with ``"time"`` / ``"seconds"``
    its local date and time), a :class:`JapaneseDate`, or the ISO text and dicts
    dates are stored as in JSON; anything else is shown as empty rather than as
    unchecked text. A value without a time of day shows its date only, even
    with ``"time"``.
    """
    options = _options(arg)
    if value in (None, ""):
        return ""
    language = translation.get_language() or "ja"
    both = "both" in options
    day: datetime.date | JapaneseDate
    if isinstance(value, datetime.datetime):
        moment = timezone.localtime(value) if timezone.is_aware(value) else value
        if options & {"time", "seconds"}:
            if language == EASY:
                clock = "%H:%M:%S" if "seconds" in options else "%H:%M"
                return f"{_easy_date(moment.date())} {moment.strftime(clock)}"
            return format_datetime(
                moment, both=both, language=language, seconds="seconds" in options
            )
        day = moment.date()
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
    if language == EASY:
        return _easy_date(day)
    return format_date(day, both=both, language=language)


EASY = "ja-easy"


def _easy_date(day: datetime.date | JapaneseDate) -> str:
    """やさしい日本語: the 西暦 alone (``2026年12月1日``), as its guidelines ask; a date
    with no 西暦 day (lunisolar 明治) keeps its 和暦."""
    try:
        return format_seireki(day, style="kanji")
    except ValueError:
        return format_date(day)
