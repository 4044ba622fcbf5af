"""The navigator input (DOMAIN §6) as a pydantic model: the shape and types of every
field, checked before anything runs. What needs the whole input or the catalogue (a
subject among the persons, a birth after the event, a known answer) is checked after it,
in :func:`machi.procedures.engine.navigator.prepare`.

Every message names its field (``persons[2].birth_date: …``); :func:`input_errors` turns
pydantic's errors into those lines. The same model gives the API's request schema
(:func:`input_json_schema`), so the OpenAPI document states what the code accepts.
"""

from __future__ import annotations

import datetime
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from machi.japanese import DateParseError, parse_date
from machi.procedures.engine.catalogue import EVENT_LABELS

__all__ = [
    "EventIn",
    "NavigatorIn",
    "PersonIn",
    "input_errors",
    "input_json_schema",
    "parse_birth_date",
    "parse_event_date",
]

INSURANCE = ("kokuho", "employee", "kouki", "welfare", "none")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _custom(message: str) -> PydanticCustomError:
    return PydanticCustomError("navigator", message)


def _fast_iso(value: str) -> datetime.date | None:
    """The common case, a plain ISO date, without the full Japanese parser."""
    if _ISO.match(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None  # e.g. 1991-02-30: parse_date decides (non-calendar)
    return None


def parse_event_date(value: Any) -> datetime.date:
    if isinstance(value, str) and (fast := _fast_iso(value)) is not None:
        return fast
    if not isinstance(value, str):
        raise _custom("日付（YYYY-MM-DD）が必要です")
    try:
        parsed = parse_date(value)
    except DateParseError as error:
        raise _custom(str(error)) from None
    # The counter's screen (forms_intake.clean_calendar_date) says the same after its label.
    if parsed.non_calendar and parsed.approx is not None:
        last = parsed.approx
        raise _custom(f"{last.year}年{last.month}月は{last.day}日までです（{value}）")
    if parsed.unknown or parsed.circa or parsed.lunisolar or parsed.approx is None:
        raise _custom(f"「{value}」は年月日のそろった日付で入力してください。")
    return parsed.approx


def parse_birth_date(value: Any) -> datetime.date:
    """A date of birth as in the registry: 和暦, 不詳 and non-calendar forms allowed
    (DOMAIN §3); the approximate date is used."""
    if isinstance(value, str) and (fast := _fast_iso(value)) is not None:
        return fast
    if not isinstance(value, str):
        raise _custom("生年月日（YYYY-MM-DD）が必要です")
    try:
        parsed = parse_date(value)
    except DateParseError as error:
        raise _custom(str(error)) from None
    if parsed.approx is None:
        raise _custom(f"年が不詳の生年月日では判定できません（{value}）")
    return parsed.approx


def _event_type(value: Any) -> str:
    if not isinstance(value, str) or value not in EVENT_LABELS:
        shown = f'"{value}"' if isinstance(value, str) else repr(value)
        raise _custom(f"未知の出来事 {shown}（既知の出来事: {', '.join(EVENT_LABELS)}）")
    return value


def _insurance(value: Any) -> str:
    if not isinstance(value, str) or value not in INSURANCE:
        raise _custom(f"{', '.join(INSURANCE)} のどれかで書いてください（{value!r}）")
    return value


def _pension(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value is not None and value not in ("1", "2", "3"):
        raise _custom(f'"1"、"2"、"3" または null で書いてください（{value!r}）')
    return value


def _flag(value: Any) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _custom(f"true か false で書いてください（{value!r}）")
    return value


def _nationality(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _custom("文字列で書いてください")
    return value


def _answer(value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    raise _custom("true / false（または数・文字列）で書いてください")


# The JSON schema says what is accepted; the BeforeValidator says it in Japanese.
Flag = Annotated[bool, BeforeValidator(_flag), Field(default=False)]
EventType = Annotated[
    Literal["birth", "move_in", "move_out", "move_within", "death", "marriage", "divorce",
            "household_change"],
    BeforeValidator(_event_type),
]  # fmt: skip
Id = Annotated[str, Field(min_length=1, max_length=64)]


class EventIn(BaseModel):
    """The life event: its type, its day and the persons it is about."""

    model_config = ConfigDict(extra="forbid")

    type: EventType
    date: Annotated[
        datetime.date,
        BeforeValidator(parse_event_date),
        Field(description="出来事の日: YYYY-MM-DD または和暦（令和8年4月3日）"),
    ]
    subjects: Annotated[list[Id], Field(min_length=1, max_length=100)]
    from_abroad: Flag
    to_abroad: Flag


class PersonIn(BaseModel):
    """One person of the household concerned; missing booleans are false."""

    model_config = ConfigDict(extra="forbid")

    id: Id
    birth_date: Annotated[
        datetime.date,
        BeforeValidator(parse_birth_date),
        Field(description="生年月日: YYYY-MM-DD、和暦、不詳の形（昭和30年月日不詳）も可"),
    ]
    nationality: Annotated[str, BeforeValidator(_nationality), Field(default="")]
    insurance: Annotated[
        Literal["kokuho", "employee", "kouki", "welfare", "none"], BeforeValidator(_insurance)
    ]
    pension: Annotated[Literal["1", "2", "3"] | None, BeforeValidator(_pension)] = None
    householder: Flag
    receives_pension: Flag
    civil_servant: Flag
    my_number_card: Flag
    seal_registered: Flag
    care_certified: Flag
    disability_certificate: Flag
    child_allowance_recipient: Flag
    name_changes: Flag
    custodial_parent: Flag


Answer = Annotated[bool | int | str | None, BeforeValidator(_answer)]


class NavigatorIn(BaseModel):
    """The navigator's input (DOMAIN §6)."""

    model_config = ConfigDict(extra="forbid")

    event: EventIn
    persons: Annotated[list[PersonIn], Field(min_length=1, max_length=100)]
    answers: Annotated[
        dict[str, Answer] | None,
        Field(
            default=None,
            description="質問への回答（has_dog などは真偽値、funeral_host などは persons の id）",
        ),
    ]


_FIELD_MESSAGES = {
    "missing": "必須の項目がありません",
    "model_type": "オブジェクトで書いてください",
    "model_attributes_type": "オブジェクトで書いてください",
    "dict_type": "オブジェクトで書いてください",
    "list_type": "リストで書いてください",
    "string_type": "文字列で書いてください",
    "string_too_short": "空でない文字列が必要です",
    "string_too_long": "長すぎます",
}
_WHOLE = {
    ("event",): "出来事（type, date, subjects）のオブジェクトが必要です",
    ("persons",): "世帯の人のリストが必要です（1人以上）",
    ("event", "subjects"): "対象者の id のリストが必要です（1人以上）",
    ("answers",): "質問への回答のオブジェクトで書いてください",
}
_KNOWN = {
    (): "event, persons, answers",
    ("event",): ", ".join(sorted(EventIn.model_fields)),
}


def _where(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def input_errors(error: ValidationError) -> list[str]:
    """pydantic's errors as the navigator's lines, each naming its field."""
    lines: list[str] = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        kind = item["type"]
        if kind == "navigator":
            message = item["msg"]
        elif kind == "extra_forbidden":
            known = _KNOWN.get(loc[:-1])
            message = "未知の項目です" + (f"（使える項目: {known}）" if known else "")
        elif loc in _WHOLE and kind in ("missing", "list_type", "model_type", "dict_type",
                                         "too_short", "too_long"):  # fmt: skip
            message = _WHOLE[loc]
            if kind == "too_long":
                message = f"多すぎます（上限 {item['ctx']['max_length']}）"
        elif kind == "too_long":
            message = f"多すぎます（上限 {item['ctx']['max_length']}）"
        elif len(loc) == 2 and loc[0] == "persons" and kind in ("model_type", "dict_type"):
            message = "人はオブジェクトで書いてください"
        else:
            message = _FIELD_MESSAGES.get(kind, f"正しくありません（{item['msg']}）")
        line = f"{_where(loc)}: {message}" if loc else message
        if line not in lines:
            lines.append(line)
    return lines


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(definitions[ref.removeprefix("#/$defs/")], definitions)
        return {k: _inline(v, definitions) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, definitions) for v in node]
    return node


def inline_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema with its ``$defs`` inlined: it goes into an OpenAPI
    document as is, where ``#/$defs/…`` would point nowhere."""
    schema = model.model_json_schema(mode="validation")
    return _inline(schema, schema.get("$defs", {}))


def input_json_schema() -> dict[str, Any]:
    """The JSON schema of the input, self-contained (no ``$ref``: it goes inline in the
    OpenAPI document). Dates are strings: 和暦 is accepted too."""
    schema = inline_json_schema(NavigatorIn)
    for model in ("event",), ("persons", "items"):
        node = schema["properties"][model[0]]
        if len(model) == 2:
            node = node["items"]
        for name in ("date", "birth_date"):
            if name in node.get("properties", {}):
                field = node["properties"][name]
                field.pop("format", None)
                field["type"] = "string"
                field["minLength"] = 1
    return schema
