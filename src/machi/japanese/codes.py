"""Check digits for 全国地方公共団体コード, 個人番号 and 宛名番号 / 世帯番号 (DOMAIN.md §2).

Every ``validate_*`` function accepts ASCII or full-width digits, returns the code
as ASCII digits and raises :class:`CodeError` when the code is wrong::

    >>> validate_lg_code("131016")
    '131016'
    >>> lg_code_check_digit("13101")
    '6'
    >>> with_atena_check_digit("1234567")
    '12345674'
    >>> try:
    ...     validate_lg_code("131017")
    ... except CodeError as error:
    ...     print(error.reason, error.expected)
    check_digit 6

Error detection (what the algorithms guarantee, and what the tests check):

* a change of the check digit itself is always detected;
* a change of one *other* digit changes the weighted sum modulo 11 (every weight is
  between 2 and 7 and 11 is prime), but each algorithm writes two remainders with
  the same check digit, so the change goes unnoticed exactly when it moves the
  remainder between that pair: r ∈ {0, 10} for ``lg_code`` ((11 − r) mod 10 is 1
  for both), r ∈ {0, 1} for ``my_number`` (check digit 0) and for
  ``atena_number`` (11 and 10 are both written 0). About one single-digit error
  in eleven of those is missed; no algorithm here detects every single-digit error.
"""

from __future__ import annotations

from typing import Final, Literal

from stdnum.jp import in_ as _stdnum_in

__all__ = [
    "CodeError",
    "CodeErrorReason",
    "atena_check_digit",
    "is_valid_atena_number",
    "is_valid_lg_code",
    "is_valid_my_number",
    "lg_code_check_digit",
    "my_number_check_digit",
    "validate_atena_number",
    "validate_household_number",
    "validate_lg_code",
    "validate_my_number",
    "with_atena_check_digit",
]

CodeErrorReason = Literal["length", "non_digit", "check_digit"]

_FULLWIDTH_DIGITS: Final = str.maketrans("０１２３４５６７８９", "0123456789")
_ASCII_DIGITS: Final = frozenset("0123456789")
_LG_WEIGHTS: Final = (6, 5, 4, 3, 2)


class CodeError(ValueError):
    """A code is malformed or its check digit is wrong.

    The message is Japanese (staff read it); the structured reason is in
    :attr:`reason` (``"length"``, ``"non_digit"`` or ``"check_digit"``), the
    expected check digit in :attr:`expected` (only for ``"check_digit"``).
    """

    def __init__(
        self,
        message: str,
        *,
        reason: CodeErrorReason,
        value: str,
        label: str,
        expected: str | None = None,
    ) -> None:
        super().__init__(f"{message}: {value!r}")
        self.reason: CodeErrorReason = reason
        self.value = value
        self.label = label
        self.expected = expected


def _digits(value: str, *, label: str, lengths: tuple[int, ...] | None) -> str:
    """Normalise full-width digits and check the characters and the length."""
    if not isinstance(value, str):
        raise TypeError(f"{label} must be a str, not {type(value).__name__}")
    text = value.translate(_FULLWIDTH_DIGITS)
    if not text or not set(text) <= _ASCII_DIGITS:
        bad = next((c for c in text if c not in _ASCII_DIGITS), "")
        if not text:
            raise CodeError(f"{label}が空です", reason="length", value=value, label=label)
        raise CodeError(
            f"{label}に数字以外の文字（{bad!r}）が含まれています",
            reason="non_digit",
            value=value,
            label=label,
        )
    if lengths is not None and len(text) not in lengths:
        want = "または".join(str(n) for n in lengths)
        raise CodeError(
            f"{label}は{want}桁です（{len(text)}桁が入力されました）",
            reason="length",
            value=value,
            label=label,
        )
    return text


def _check(text: str, expected: str, *, value: str, label: str) -> str:
    if text[-1] != expected:
        raise CodeError(
            f"{label}のチェックデジットが正しくありません（末尾は {expected} になるはずです）",
            reason="check_digit",
            value=value,
            label=label,
            expected=expected,
        )
    return text


# ---------------------------------------------------------------- lg_code


def lg_code_check_digit(first_five: str) -> str:
    """Check digit of a 全国地方公共団体コード from its first five digits.

    Weights 6,5,4,3,2; r = Σ mod 11; check digit = (11 − r) mod 10.

    >>> lg_code_check_digit("13104")
    '1'
    """
    text = _digits(first_five, label="地方公共団体コード（検査数字を除く5桁）", lengths=(5,))
    r = sum(int(c) * w for c, w in zip(text, _LG_WEIGHTS, strict=True)) % 11
    return str((11 - r) % 10)


def validate_lg_code(code: str) -> str:
    """Validate a 6-digit 全国地方公共団体コード and return it as ASCII digits.

    >>> validate_lg_code("１３１０１６")
    '131016'
    """
    label = "地方公共団体コード"
    text = _digits(code, label=label, lengths=(6,))
    return _check(text, lg_code_check_digit(text[:5]), value=code, label=label)


def is_valid_lg_code(code: str) -> bool:
    """``True`` when :func:`validate_lg_code` accepts *code*."""
    try:
        validate_lg_code(code)
    except CodeError:
        return False
    return True


# ---------------------------------------------------------------- my_number


def my_number_check_digit(first_eleven: str) -> str:
    """Check digit of a 個人番号 from its first eleven digits (``stdnum.jp.in_``).

    >>> my_number_check_digit("12345678901")
    '8'
    """
    text = _digits(first_eleven, label="個人番号（検査数字を除く11桁）", lengths=(11,))
    return str(_stdnum_in.calc_check_digit(text))


def validate_my_number(number: str) -> str:
    """Validate a 12-digit 個人番号 and return it as ASCII digits.

    Spaces and hyphens are *not* removed: strip them before calling if the
    input form allows them.

    >>> validate_my_number("621498320257")
    '621498320257'
    """
    label = "個人番号"
    text = _digits(number, label=label, lengths=(12,))
    return _check(text, my_number_check_digit(text[:11]), value=number, label=label)


def is_valid_my_number(number: str) -> bool:
    """``True`` when :func:`validate_my_number` accepts *number*."""
    try:
        validate_my_number(number)
    except CodeError:
        return False
    return True


# ---------------------------------------------------------------- atena / household


def atena_check_digit(base: str) -> str:
    """Modulus 11, weights 2–7 (M11W2-7) check digit of a newly issued number.

    The weights 2,3,4,5,6,7 repeat from the rightmost digit of *base*;
    check digit = 11 − (Σ mod 11), with 10 and 11 written as 0.

    >>> atena_check_digit("1234567")
    '4'
    """
    text = _digits(base, label="宛名番号（検査数字を除く部分）", lengths=None)
    total = sum(int(c) * (2 + i % 6) for i, c in enumerate(reversed(text)))
    return str((11 - total % 11) % 11 % 10)


def with_atena_check_digit(base: str) -> str:
    """*base* followed by its M11W2-7 check digit: ``"1234567"`` → ``"12345674"``."""
    text = _digits(base, label="宛名番号（検査数字を除く部分）", lengths=None)
    return text + atena_check_digit(text)


def validate_atena_number(
    number: str, *, length: int | None = None, label: str = "宛名番号"
) -> str:
    """Validate a newly issued 宛名番号 (M11W2-7, check digit last).

    *length* is the total number of digits including the check digit (the
    municipality's numbering rule); ``None`` accepts any length from 2 up.
    Numbers migrated from legacy systems are validated only when the
    municipality turns the option on (DOMAIN.md §2) — that choice is the
    caller's.

    >>> validate_atena_number("12345674", length=8)
    '12345674'
    """
    lengths = (length,) if length is not None else None
    text = _digits(number, label=label, lengths=lengths)
    if len(text) < 2:
        raise CodeError(
            f"{label}は検査数字を含めて2桁以上です（{len(text)}桁が入力されました）",
            reason="length",
            value=number,
            label=label,
        )
    return _check(text, atena_check_digit(text[:-1]), value=number, label=label)


def validate_household_number(number: str, *, length: int | None = None) -> str:
    """Validate a newly issued 世帯番号 (same algorithm as the 宛名番号)."""
    return validate_atena_number(number, length=length, label="世帯番号")


def is_valid_atena_number(number: str, *, length: int | None = None) -> bool:
    """``True`` when :func:`validate_atena_number` accepts *number*."""
    try:
        validate_atena_number(number, length=length)
    except CodeError:
        return False
    return True
