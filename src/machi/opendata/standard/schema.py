"""Column schemas of the exports (Frictionless Table Schema style, shipped in
``schemas/*.json``) and a validator that checks a CSV file against one.

The validator checks what a reader of the standard relies on: UTF-8 with a BOM, the
header in the standard's order, the same number of fields on every line, required
fields present, integers, numbers, dates (YYYY-MM-DD) and enumerated values. The
suppression mark ``X`` is a declared missing value of the count columns.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from machi.opendata.standard import layouts

SCHEMAS = Path(__file__).parent / "schemas"
BOM = "\ufeff".encode()


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.line}行目" + (f"「{self.field}」" if self.field else "")
        return f"{where}: {self.reason}"


def _field_type(dataset: str, column: str) -> dict[str, Any]:
    if dataset == "population":
        if column == "調査年月日":
            return {"type": "date", "format": "%Y-%m-%d"}
        if column in {"総人口", "男性", "女性", "世帯数"} or column.endswith(("の男性", "の女性")):
            return {"type": "integer", "constraints": {"minimum": 0}}
        if column == "都道府県コード又は市区町村コード":
            return {"type": "string", "constraints": {"pattern": r"\d{6}"}}
        return {"type": "string"}
    if column in {"緯度", "経度", "標高"}:
        return {"type": "number"}
    if column == "想定収容人数":
        return {"type": "integer", "constraints": {"minimum": 0}}
    if column in {name for name, _ in layouts.HAZARDS} | {"指定避難所との重複"}:
        return {"type": "string", "constraints": {"enum": ["1", ""]}}
    if column == "小児対応設備の有無":
        return {"type": "string", "constraints": {"enum": ["有", "無", ""]}}
    if column in {"全国地方公共団体コード", "所在地_全国地方公共団体コード", "市区町村コード"}:
        return {"type": "string", "constraints": {"pattern": r"(\d{6})?"}}
    if column == "法人番号":
        return {"type": "string", "constraints": {"pattern": r"(\d{13})?"}}
    if column in {"開始時間", "終了時間"}:
        return {"type": "string", "constraints": {"pattern": r"(\d{2}:\d{2})?"}}
    return {"type": "string"}


def schema_build(dataset: str) -> dict[str, Any]:
    """The schema of ``dataset`` as written from its layout (what schemas/*.json hold)."""
    fields = []
    for column, required in layouts.LAYOUTS[dataset]:
        field = {"name": column, **_field_type(dataset, column)}
        if required:
            field.setdefault("constraints", {})["required"] = True
        fields.append(field)
    return {
        "$comment": "machi: 自治体標準オープンデータセット column schema (Frictionless Table "
        "Schema style). Written from machi/opendata/standard/layouts.py.",
        "name": dataset,
        "encoding": "utf-8-sig",
        "fields": fields,
        "missingValues": ["", "X"] if dataset == "population" else [""],
    }


@cache
def schema_load(dataset: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{dataset}.json").read_text(encoding="utf-8"))


def _check(field: dict[str, Any], value: str, missing: list[str]) -> str | None:
    constraints = field.get("constraints", {})
    if value in missing:
        if constraints.get("required") and value == "":
            return "必須の項目が空です。"
        return None
    kind = field["type"]
    if kind == "integer":
        if not re.fullmatch(r"\d+|-\d+", value):
            return "整数ではありません。"
        if int(value) < constraints.get("minimum", int(value)):
            return "負の数は使えません。"
    elif kind == "number":
        try:
            float(value)
        except ValueError:
            return "数値ではありません。"
    elif kind == "date":
        try:
            datetime.date.fromisoformat(value)
        except ValueError:
            return "日付（YYYY-MM-DD）ではありません。"
    if "enum" in constraints and value not in constraints["enum"]:
        return "使える値は " + "・".join(repr(v) for v in constraints["enum"] if v) + " です。"
    if "pattern" in constraints and not re.fullmatch(constraints["pattern"], value):
        return "形式が正しくありません。"
    return None


def schema_validate(*, dataset: str, content: bytes) -> list[Problem]:
    """The problems of ``content`` against the shipped schema (empty: valid)."""
    schema = schema_load(dataset)
    if not content.startswith(BOM):
        return [Problem(1, "", "UTF-8 の BOM がありません。")]
    try:
        text = content[len(BOM) :].decode("utf-8")
    except UnicodeDecodeError as error:
        return [Problem(1, "", f"UTF-8 として読めません（{error.start} バイト目）。")]
    rows = list(csv.reader(io.StringIO(text, newline="")))
    names = [field["name"] for field in schema["fields"]]
    if not rows or rows[0] != names:
        return [Problem(1, "", "見出し行が標準の列の並びと一致しません。")]
    problems = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(names):
            problems.append(Problem(number, "", f"列の数が {len(row)} です（{len(names)} 必要）。"))
            continue
        for field, value in zip(schema["fields"], row, strict=True):
            reason = _check(field, value, schema["missingValues"])
            if reason:
                problems.append(Problem(number, field["name"], reason))
    return problems


def csv_bytes(*, header: list[str], rows: list[list[str]]) -> bytes:
    """UTF-8 with a BOM, CRLF line ends (RFC 4180), every field as given."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return BOM + out.getvalue().encode("utf-8")
