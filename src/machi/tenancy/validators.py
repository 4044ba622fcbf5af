from __future__ import annotations

from django.core.exceptions import ValidationError

from machi.japanese import codes


def validate_lg_code_field(value: str) -> None:
    """Django validator: a 6-digit 全国地方公共団体コード with a correct check digit."""
    try:
        codes.validate_lg_code(value)
    except ValueError as error:
        raise ValidationError(str(error), code="lg_code") from error
