"""A model field storing a JapaneseDate (text as written, parts, flags, approximate date)."""

from __future__ import annotations

from typing import Any

from django.db import models

from machi.japanese import DateParseError, JapaneseDate, parse_date


class JapaneseDateField(models.JSONField):
    """Stores ``JapaneseDate.to_dict()``; gives back a ``JapaneseDate`` (or None).

    Assigning a string parses it (DOMAIN.md §3 forms). Sorting and range queries use a
    separate ``*_approx`` DateField that the services keep in step.
    """

    description = "A date as written in a Japanese register (和暦, 不詳, non-calendar)"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> JapaneseDate | None:
        value = super().from_db_value(value, expression, connection)
        return self.to_python(value)

    def to_python(self, value: Any) -> JapaneseDate | None:
        if value is None or value == "" or isinstance(value, JapaneseDate):
            return value or None
        if isinstance(value, dict):
            return JapaneseDate.from_dict(value)
        try:
            return parse_date(str(value))
        except DateParseError as error:
            from django.core.exceptions import ValidationError

            raise ValidationError(str(error), code="date") from error

    def get_prep_value(self, value: Any) -> Any:
        value = self.to_python(value)
        return super().get_prep_value(value.to_dict() if value is not None else None)

    def value_to_string(self, obj: models.Model) -> str:
        value = self.value_from_object(obj)
        return "" if value is None else value.text
