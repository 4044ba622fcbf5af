"""Dates in the stored navigator inputs become ISO dates (issue 12: dates are data).

Before, the intake kept a new person's date of birth as typed (``S60.6.15``,
``昭和30年月日不詳``) in ``Visit.navigator_input``. Every ``event.date`` and
``persons[*].birth_date`` of a visit's or a pre-application's input is rewritten to its
ISO date, the day the navigator used: a 不詳 or non-calendar date of birth becomes its
approximate day (DOMAIN.md §3), an event date must be a whole calendar day. A value
that cannot be read stops the migration naming the row (model, pk, code, field,
value), and nothing is changed: fix that row and migrate again.

Going back leaves the ISO dates: they are valid input, and the typed text is gone.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.db import migrations

from machi.japanese import DateParseError, parse_date

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_BATCH = 500


class UnreadableDate(ValueError):
    """A stored date this migration cannot turn into an ISO date."""


def _iso(value: Any, *, birth: bool) -> str:
    """``value`` as an ISO date, or raises UnreadableDate saying why."""
    if isinstance(value, str) and _ISO.match(value):
        try:
            return datetime.date.fromisoformat(value).isoformat()
        except ValueError:
            pass  # 1991-02-30: a non-calendar date of birth, read below
    if not isinstance(value, str):
        raise UnreadableDate(f"not a date text ({type(value).__name__})")
    try:
        parsed = parse_date(value)
    except DateParseError as error:
        raise UnreadableDate(error.message) from None
    if parsed.approx is None:
        raise UnreadableDate("the year is unknown (年月日不詳)")
    if not birth and not parsed.is_exact:
        raise UnreadableDate("not a whole calendar day")
    return parsed.approx.isoformat()


def _rewrite(data: Any) -> tuple[Any, list[tuple[str, Any, str]]]:
    """The input with ISO dates, and the (field, value, why) of each unreadable one."""
    if not isinstance(data, dict):
        return data, []
    out = dict(data)
    problems: list[tuple[str, Any, str]] = []
    event = data.get("event")
    if isinstance(event, dict) and "date" in event:
        try:
            out["event"] = {**event, "date": _iso(event["date"], birth=False)}
        except UnreadableDate as error:
            problems.append(("event.date", event["date"], str(error)))
    persons = data.get("persons")
    if isinstance(persons, list):
        rewritten = []
        for index, person in enumerate(persons):
            if isinstance(person, dict) and "birth_date" in person:
                try:
                    person = {**person, "birth_date": _iso(person["birth_date"], birth=True)}
                except UnreadableDate as error:
                    where = f"persons[{index}].birth_date"
                    problems.append((where, person["birth_date"], str(error)))
            rewritten.append(person)
        out["persons"] = rewritten
    return out, problems


def _migrate(model_name: str, code_field: str):
    def run(apps, schema_editor):
        model = apps.get_model("counter", model_name)
        alias = schema_editor.connection.alias
        rows = model.objects.using(alias).only("pk", code_field, "navigator_input")
        changed, problems = [], []
        for row in rows.order_by("pk").iterator(chunk_size=_BATCH):
            data, found = _rewrite(row.navigator_input)
            code = getattr(row, code_field)
            problems += [
                f"counter.{model_name} pk={row.pk} ({code_field} {code}) "
                f"navigator_input.{where} = {value!r}: {why}"
                for where, value, why in found
            ]
            if not found and data != row.navigator_input:
                row.navigator_input = data
                changed.append(row)
            if len(changed) >= _BATCH:
                model.objects.using(alias).bulk_update(changed, ["navigator_input"])
                changed = []
        if problems:
            # Every bad row is listed at once; the migration's transaction rolls back
            # the batches already written, so nothing is changed.
            raise UnreadableDate(
                "Stored dates that cannot be read as dates; correct these rows and "
                "migrate again:\n  " + "\n  ".join(problems)
            )
        model.objects.using(alias).bulk_update(changed, ["navigator_input"])

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("counter", "0005_preapplication_issue_limit"),
    ]

    operations = [
        migrations.RunPython(
            _migrate("Visit", "public_code"),
            migrations.RunPython.noop,
            hints={"model_name": "visit"},
        ),
        migrations.RunPython(
            _migrate("PreApplication", "code"),
            migrations.RunPython.noop,
            hints={"model_name": "preapplication"},
        ),
    ]
