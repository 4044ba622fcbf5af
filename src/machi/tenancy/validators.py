from __future__ import annotations

from django.core.exceptions import ValidationError

from machi.japanese import codes


def clean_lg_code(value: str) -> str:
    """The code as 6 ASCII digits (full-width input accepted); ValidationError if invalid."""
    try:
        return codes.validate_lg_code(value)
    except ValueError as error:
        raise ValidationError(str(error), code="lg_code") from error


def validate_lg_code_field(value: str) -> None:
    """Django validator: a 6-digit 全国地方公共団体コード with a correct check digit."""
    if clean_lg_code(value) != value:
        raise ValidationError("自治体コードは半角数字6桁で保存します。", code="lg_code")
