"""DOMAIN.md §2: check digits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from machi.japanese import (
    CodeError,
    atena_check_digit,
    is_valid_atena_number,
    is_valid_lg_code,
    is_valid_my_number,
    lg_code_check_digit,
    my_number_check_digit,
    validate_atena_number,
    validate_household_number,
    validate_lg_code,
    validate_my_number,
    with_atena_check_digit,
)


@pytest.mark.parametrize("code", ["131016", "131041", "131130", "011002", "271403", "130001"])
def test_lg_code_examples_are_valid(code: str) -> None:
    assert validate_lg_code(code) == code
    assert lg_code_check_digit(code[:5]) == code[5]


@pytest.mark.parametrize("number", ["123456789018", "621498320257"])
def test_my_number_examples_are_valid(number: str) -> None:
    assert validate_my_number(number) == number
    assert my_number_check_digit(number[:11]) == number[11]


def test_atena_example() -> None:
    assert atena_check_digit("1234567") == "4"
    assert with_atena_check_digit("1234567") == "12345674"
    assert validate_atena_number("12345674") == "12345674"
    assert validate_household_number("12345674", length=8) == "12345674"


def test_fullwidth_digits_are_accepted() -> None:
    assert validate_lg_code("１３１０１６") == "131016"
    assert validate_my_number("６２１４９８３２０２５７") == "621498320257"


@pytest.mark.parametrize(
    ("func", "value", "reason", "expected"),
    [
        (validate_lg_code, "13101", "length", None),
        (validate_lg_code, "1310160", "length", None),
        (validate_lg_code, "", "length", None),
        (validate_lg_code, "13101a", "non_digit", None),
        (validate_lg_code, "131-16", "non_digit", None),
        (validate_lg_code, "131017", "check_digit", "6"),
        (validate_lg_code, "131040", "check_digit", "1"),
        (validate_my_number, "12345678901", "length", None),
        (validate_my_number, "1234 5678 9018", "non_digit", None),
        (validate_my_number, "123456789019", "check_digit", "8"),
        (validate_atena_number, "12345675", "check_digit", "4"),
        (validate_atena_number, "1234567x", "non_digit", None),
        (validate_atena_number, "7", "length", None),
    ],
)
def test_errors_say_what_is_wrong(func, value: str, reason: str, expected: str | None) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CodeError) as info:
        func(value)
    assert info.value.reason == reason
    assert info.value.expected == expected
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    words = {
        "length": ("桁", "空"),
        "non_digit": ("数字以外",),
        "check_digit": ("チェックデジット",),
    }
    assert any(word in message for word in words[reason])
    if expected is not None:
        assert f"末尾は {expected} " in message


def test_atena_length_option() -> None:
    with pytest.raises(CodeError) as info:
        validate_atena_number("12345674", length=10)
    assert info.value.reason == "length"
    with pytest.raises(CodeError, match="世帯番号"):
        validate_household_number("1")


def test_lg_code_known_blind_spot() -> None:
    # r = 0 and r = 10 give the same check digit 1: 000001 (r=0) vs 200001 (r=12 mod 11 = 1)?
    # Search for a concrete undetected single-digit change and check it is the documented one.
    found = None
    for n in range(100000):
        base = f"{n:05d}"
        code = base + lg_code_check_digit(base)
        for pos in range(5):
            for digit in "0123456789":
                if digit != base[pos]:
                    other = code[:pos] + digit + code[pos + 1 :]
                    if is_valid_lg_code(other):
                        found = (code, other)
                        break
            if found:
                break
        if found:
            break
    assert found is not None
    remainders = {_lg_remainder(found[0]), _lg_remainder(found[1])}
    assert remainders == {0, 10}


def _lg_remainder(code: str) -> int:
    return sum(int(c) * w for c, w in zip(code[:5], (6, 5, 4, 3, 2), strict=True)) % 11


def _my_remainder(number: str) -> int:
    weights = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
    return sum(int(c) * w for c, w in zip(number[:11], weights, strict=True)) % 11


def _atena_remainder(number: str) -> int:
    return sum(int(c) * (2 + i % 6) for i, c in enumerate(reversed(number[:-1]))) % 11


def _change(code: str, pos: int, delta: int) -> str:
    digit = (int(code[pos]) + delta) % 10
    return code[:pos] + str(digit) + code[pos + 1 :]


# Single-digit errors: the check digit position is always detected; another
# position is missed exactly when the remainder moves inside the one pair
# that shares a check digit ({0, 10} for lg_code, {0, 1} for the others).


@given(st.text("0123456789", min_size=5, max_size=5), st.integers(0, 5), st.integers(1, 9))
def test_lg_code_single_digit_errors(base: str, pos: int, delta: int) -> None:
    code = base + lg_code_check_digit(base)
    wrong = _change(code, pos, delta)
    detected = not is_valid_lg_code(wrong)
    if pos == 5:
        assert detected
    else:
        blind = {_lg_remainder(code), _lg_remainder(wrong)} == {0, 10}
        assert detected == (not blind)


@given(st.text("0123456789", min_size=11, max_size=11), st.integers(0, 11), st.integers(1, 9))
def test_my_number_single_digit_errors(base: str, pos: int, delta: int) -> None:
    number = base + my_number_check_digit(base)
    wrong = _change(number, pos, delta)
    detected = not is_valid_my_number(wrong)
    if pos == 11:
        assert detected
    else:
        blind = {_my_remainder(number), _my_remainder(wrong)} == {0, 1}
        assert detected == (not blind)


@given(st.text("0123456789", min_size=1, max_size=15), st.data())
def test_atena_single_digit_errors(base: str, data: st.DataObject) -> None:
    number = with_atena_check_digit(base)
    pos = data.draw(st.integers(0, len(number) - 1))
    wrong = _change(number, pos, data.draw(st.integers(1, 9)))
    detected = not is_valid_atena_number(wrong)
    if pos == len(number) - 1:
        assert detected
    else:
        blind = {_atena_remainder(number), _atena_remainder(wrong)} == {0, 1}
        assert detected == (not blind)


def test_blind_spots_exist_for_my_number_and_atena() -> None:
    # The guarantee is not "every single-digit error": show one miss for each.
    base = "00000000000"
    assert my_number_check_digit(base) == "0"  # r = 0
    # change a digit so that r becomes 1: weight 6 at position 0 → 6*d ≡ 1 (mod 11) → d = 2
    assert is_valid_my_number("200000000000")
    assert with_atena_check_digit("0000000") == "00000000"  # r = 0 → 11 → 0
    # rightmost weight 2: 2*d ≡ 1 (mod 11) → d = 6 gives r = 1 → 10 → 0
    assert is_valid_atena_number("00000060")


def test_types() -> None:
    with pytest.raises(TypeError):
        validate_lg_code(131016)  # type: ignore[arg-type]
