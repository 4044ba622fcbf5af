"""CEL for catalogue conditions: the helper functions, compilation and static checks.

Dates reach CEL as ISO strings ``"YYYY-MM-DD"`` (``D``, ``person.birth_date``); the
helpers take those strings. Every condition is compiled once, when the catalogue is
loaded; the compiled program is run by the navigator with one ``cel.Context`` per
request.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import cel

from machi.japanese import age as _age
from machi.japanese import eligible_child as _eligible_child
from machi.japanese import legal_age as _legal_age
from machi.japanese import school_age as _school_age

__all__ = [
    "HELPERS",
    "VARIABLES",
    "CelCheckError",
    "check_condition",
    "compile_condition",
    "iso_date",
]


@lru_cache(maxsize=8192)
def iso_date(text: str) -> datetime.date:
    """``"2026-04-03"`` → ``date(2026, 4, 3)`` (cached: the same dates recur)."""
    if not isinstance(text, str):
        raise TypeError(f"日付は 'YYYY-MM-DD' の文字列で渡してください（{type(text).__name__}）")
    return datetime.date.fromisoformat(text)


@lru_cache(maxsize=16384)
def cel_age(birth: str, day: str) -> int:
    """``age(birth, D)``: completed years on D (DOMAIN §3)."""
    return _age(iso_date(birth), iso_date(day))


@lru_cache(maxsize=16384)
def cel_legal_age(birth: str, day: str) -> int:
    """``legal_age(birth, D)``: the age reached on D (65 on the day before the birthday)."""
    return _legal_age(iso_date(birth), iso_date(day))


@lru_cache(maxsize=16384)
def cel_school_age(birth: str, day: str) -> str:
    """``school_age(birth, D)``: "preschool", "elementary", "junior_high" or "none"."""
    return _school_age(iso_date(birth), iso_date(day))


@lru_cache(maxsize=16384)
def cel_eligible_child(birth: str, day: str) -> bool:
    """``eligible_child(birth, D)``: up to the 31 March after reaching 18 (児童手当)."""
    return _eligible_child(iso_date(birth), iso_date(day))


def cel_compulsory_school(birth: str, day: str) -> bool:
    """``compulsory_school(birth, D)``: elementary or junior high school age."""
    return cel_school_age(birth, day) in ("elementary", "junior_high")


def cel_any_eligible_child(people: list[Any], day: str) -> bool:
    """``any_eligible_child(persons, D)``: one of the persons is an eligible child."""
    return any(cel_eligible_child(p["birth_date"], day) for p in people)


#: The helper functions a condition may call, by CEL name.
HELPERS: dict[str, Callable[..., Any]] = {
    "age": cel_age,
    "legal_age": cel_legal_age,
    "school_age": cel_school_age,
    "eligible_child": cel_eligible_child,
    "compulsory_school": cel_compulsory_school,
    "any_eligible_child": cel_any_eligible_child,
}

#: The variables a condition may read (see docs/counter.md).
VARIABLES = frozenset(
    {
        "person",  # the candidate person (null for a household-level procedure)
        "persons",  # the household concerned, every person
        "subjects",  # the persons the event is about
        "others",  # the persons who are not subjects
        "claimant",  # the child-allowance claimant (recipient, else householder) or null
        "householder",  # the householder (世帯主) of the persons given, or null
        "event",  # the event: type, date, subjects (ids), from_abroad, to_abroad
        "answers",  # the answers to the counter's questions
        "D",  # the event date, "YYYY-MM-DD"
    }
)

# Functions of CEL itself (cel-rust) that conditions may use.
_BUILTINS = frozenset(
    {
        "size", "contains", "startsWith", "endsWith", "matches", "int", "uint", "double",
        "string", "bytes", "bool", "timestamp", "duration", "dyn", "type", "has",
        "getFullYear", "getMonth", "getDate", "getDayOfMonth", "getDayOfWeek",
        "getDayOfYear", "getHours", "getMinutes", "getSeconds", "getMilliseconds",
    }
)  # fmt: skip
_TYPE_NAMES = frozenset(
    {"int", "uint", "double", "string", "bool", "bytes", "list", "map", "null_type", "type"}
)
_MACRO_BINDING = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")


class CelCheckError(ValueError):
    """A condition that does not compile or names something unknown."""


def _is_operator(name: str) -> bool:
    return name.startswith(("_", "@", "!_", "-_"))


def compile_condition(source: str) -> cel.Program:
    """Compile one condition; check that it calls only known functions and reads only
    known variables. Raises :class:`CelCheckError` with a readable message."""
    if not isinstance(source, str) or not source.strip():
        raise CelCheckError("条件（CEL 式）が空です")
    try:
        program = cel.compile(source)
    except (ValueError, RuntimeError) as error:
        raise CelCheckError(f"CEL の構文エラー: {_one_line(error)}") from None
    check_condition(program)
    return program


def check_condition(program: cel.Program) -> None:
    references = program.references()
    for name in references["functions"]:
        if _is_operator(name) or name in _BUILTINS or name in HELPERS:
            continue
        known = ", ".join(sorted(HELPERS))
        raise CelCheckError(f"未知のヘルパー関数 '{name}'（使えるもの: {known}）")
    bound = set(_MACRO_BINDING.findall(program.source))
    for name in references["variables"]:
        if name in VARIABLES or name in bound or name in _TYPE_NAMES:
            continue
        known = ", ".join(sorted(VARIABLES))
        raise CelCheckError(f"未知の変数 '{name}'（使えるもの: {known}）")


def _one_line(error: BaseException) -> str:
    """CEL's messages are multi-line (with a caret); keep them, but trim the noise."""
    text = str(error).strip()
    text = text.replace("Failed to parse expression", "式を解釈できません")
    return text
