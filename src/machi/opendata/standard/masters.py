"""The facility masters in the standard's columns: export, and import of files in those
layouts (with the variants municipalities publish).

Import rules: UTF-8 with or without a BOM, or Shift_JIS (CP932); LF or CRLF; the header
names matched after the known variants (「名称_英語」 for 「名称_英字」 …), spaces and
bracket widths; optional columns may be missing, required ones may not; columns the
standard does not have are ignored. Rows are matched to the master by ID (new IDs are
added, known ones updated, the others kept). Any bad row refuses the whole file, every
problem named by line, column and reason, and nothing is written.
"""

from __future__ import annotations

import csv
import decimal
import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from machi.opendata.standard import layouts
from machi.opendata.standard.models import Aed, Facility, FacilityBase, Shelter
from machi.opendata.standard.schema import Problem, csv_bytes
from machi.tenancy.context import current_tenant_alias

MAX_ROWS = 20_000

# column → field, shared by the three masters
_COMMON = {
    "ID": "standard_id",
    "名称": "name",
    "名称_カナ": "name_kana",
    "名称_英字": "name_alphabet",
    "町字ID": "machiaza_id",
    "所在地_連結表記": "address",
    "所在地_都道府県": "prefecture",
    "所在地_市区町村": "city",
    "所在地_町字": "machiaza",
    "所在地_番地以下": "banchi",
    "建物名等(方書)": "katagaki",
    "緯度": "latitude",
    "経度": "longitude",
    "電話番号": "phone",
    "内線番号": "extension",
    "連絡先メールアドレス": "email",
    "連絡先FormURL": "contact_form_url",
    "連絡先備考（その他、SNSなど）": "contact_note",
    "郵便番号": "postal_code",
    "URL": "url",
    "備考": "note",
}
_HOURS = {
    "利用可能曜日": "available_days",
    "開始時間": "opens_at",
    "終了時間": "closes_at",
    "利用可能日時特記事項": "availability_note",
}
# Columns machi fills from the municipality (not stored per facility).
_MUNICIPAL = {
    "全国地方公共団体コード",
    "所在地_全国地方公共団体コード",
    "市区町村コード",
    "地方公共団体名",
}


@dataclass(frozen=True)
class Master:
    dataset: str
    model: type[FacilityBase]
    fields: dict[str, str]  # column → field
    title: str
    slug: str
    tags: tuple[str, ...]

    @property
    def layout(self) -> list[tuple[str, bool]]:
        return layouts.LAYOUTS[self.dataset]


MASTERS = {
    "shelters": Master(
        "shelters", Shelter,
        {
            **_COMMON, "標高": "elevation",
            **{column: field for column, field in layouts.HAZARDS},
            "指定避難所との重複": "also_designated_shelter", "想定収容人数": "capacity",
            "対象となる町会・自治会": "target_associations", "画像": "image",
            "画像_ライセンス": "image_licence",
        },
        "指定緊急避難場所一覧", "evacuation-space",
        ("防災", "避難場所", "自治体標準オープンデータセット"),
    ),
    "facilities": Master(
        "facilities", Facility,
        {
            **_COMMON, "名称_通称": "common_name", "POIコード": "poi_code", **_HOURS,
            "説明": "description", "バリアフリー情報": "barrier_free",
            "法人番号": "owner_corporate_number", "団体名": "owner_name",
        },
        "公共施設一覧", "public-facility", ("公共施設", "自治体標準オープンデータセット"),
    ),
    "aed": Master(
        "aed", Aed,
        {
            **_COMMON, "設置位置": "placement", "法人番号": "owner_corporate_number",
            "団体名": "owner_name", **_HOURS, "小児対応設備の有無": "pediatric",
        },
        "AED設置箇所一覧", "aed", ("AED", "救急", "自治体標準オープンデータセット"),
    ),
}  # fmt: skip


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f")
    return str(value)


def master_export(*, dataset: str, lg_code: str, municipality_name: str) -> bytes:
    """The master in the standard's column order, UTF-8 with a BOM."""
    master = MASTERS[dataset]
    header = [column for column, _required in master.layout]
    rows = []
    for item in master.model.objects.order_by("standard_id"):
        row = []
        for column in header:
            if column in {
                "全国地方公共団体コード",
                "所在地_全国地方公共団体コード",
                "市区町村コード",
            }:
                row.append(lg_code)
            elif column == "地方公共団体名":
                row.append(municipality_name)
            else:
                row.append(_cell(getattr(item, master.fields[column])))
        rows.append(row)
    return csv_bytes(header=header, rows=rows)


class ImportRefused(Exception):
    """The file was refused; ``problems`` names every line, column and reason."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems[:5]))
        self.problems = problems


def _decode(content: bytes) -> str:
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("cp932")


def _key(name: str) -> str:
    # NFKC folds full-width brackets and spaces; the header is a label, not a name.
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", name or ""))


def _columns(header: list[str], master: Master) -> dict[int, str]:
    standard = {_key(column): column for column, _ in master.layout}
    variants = {_key(v): target for v, target in layouts.VARIANTS.items()}
    found: dict[int, str] = {}
    for index, name in enumerate(header):
        key = _key(name)
        column = standard.get(key) or variants.get(key)
        if column in standard.values() and column not in found.values():
            found[index] = column
    return found


def _parse(field: models.Field, value: str) -> tuple[Any, str | None]:
    value = value.strip()
    if isinstance(field, models.BooleanField):
        if value in {"1", "○", "◯", "有"}:
            return True, None
        if value in {"", "0", "無"}:
            return False, None
        return None, _("「1」か空欄で書いてください。")
    if not value:
        return (None if field.null else ""), None
    if isinstance(field, models.DecimalField):
        try:
            number = decimal.Decimal(value)
        except decimal.InvalidOperation:
            return None, _("数値ではありません。")
        if not number.is_finite():
            return None, _("数値ではありません。")
        if field.name == "latitude" and not -90 <= number <= 90:
            return None, _("緯度は -90 から 90 の間です。")
        if field.name == "longitude" and not -180 <= number <= 180:
            return None, _("経度は -180 から 180 の間です。")
        return number.quantize(decimal.Decimal(1).scaleb(-field.decimal_places)), None
    if isinstance(field, models.PositiveIntegerField):
        digits = value.replace(",", "")
        if not digits.isdigit():
            return None, _("0 以上の整数ではありません。")
        return int(digits), None
    if field.choices and value not in {key for key, _label in field.choices}:
        return None, _("使える値は「有」「無」です。")
    if field.name in {"opens_at", "closes_at"}:
        match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::00)?", value)
        if not match or int(match[1]) > 24 or int(match[2]) > 59:
            return None, _("時刻は HH:MM で書いてください。")
        return f"{int(match[1]):02d}:{match[2]}", None
    if field.max_length and len(value) > field.max_length:
        return None, _("%(n)d 文字を超えています。") % {"n": field.max_length}
    return value, None


def master_parse(*, dataset: str, content: bytes) -> list[dict[str, Any]]:
    """The rows of ``content`` as field values; raises ImportRefused with every problem."""
    master = MASTERS[dataset]
    try:
        text = _decode(content)
    except UnicodeDecodeError:
        raise ImportRefused(
            [
                Problem(
                    1,
                    "",
                    _("文字コードを判別できません（UTF-8 か Shift_JIS で保存してください）。"),
                )
            ]
        ) from None
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        raise ImportRefused([Problem(1, "", _("ファイルが空です。"))])
    found = _columns(rows[0], master)
    missing = [
        column
        for column, required in master.layout
        if required and column not in _MUNICIPAL and column not in found.values()
    ]
    if missing:
        raise ImportRefused([Problem(1, column, _("必須の列がありません。")) for column in missing])
    if len(rows) - 1 > MAX_ROWS:
        raise ImportRefused(
            [Problem(1, "", _("行が多すぎます（%(n)d 行まで）。") % {"n": MAX_ROWS})]
        )
    required = {column for column, needed in master.layout if needed}
    problems: list[Problem] = []
    parsed: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    width = len(rows[0])
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != width:
            problems.append(
                Problem(
                    number,
                    "",
                    _("列の数が %(got)d です（見出しは %(want)d 列）。")
                    % {"got": len(row), "want": width},
                )
            )
            continue
        values: dict[str, Any] = {}
        before = len(problems)
        for index, column in found.items():
            if column in _MUNICIPAL:
                continue
            field = master.model._meta.get_field(master.fields[column])
            raw = row[index]
            if column in required and not raw.strip():
                problems.append(Problem(number, column, _("必須の項目が空です。")))
                continue
            value, reason = _parse(field, raw)
            if reason:
                problems.append(Problem(number, column, reason))
            else:
                values[field.name] = value
        if len(problems) == before:
            columns = {field: column for column, field in master.fields.items()}
            try:
                master.model(**values).clean_fields()
            except ValidationError as error:
                for name, messages in error.message_dict.items():
                    for message in messages:
                        problems.append(Problem(number, columns.get(name, name), message))
        standard_id = values.get("standard_id")
        if standard_id:
            if standard_id in seen:
                problems.append(
                    Problem(
                        number,
                        "ID",
                        _("ID が %(line)d 行目と重複しています。") % {"line": seen[standard_id]},
                    )
                )
            seen[standard_id] = number
        parsed.append(values)
    if problems:
        raise ImportRefused(problems)
    return parsed


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def master_import(
    *, dataset: str, content: bytes, on_row: Callable[[int], None] | None = None
) -> ImportResult:
    """Add or update the master's rows from a file of the standard's layout, in one
    transaction; a bad file changes nothing (ImportRefused)."""
    master = MASTERS[dataset]
    rows = master_parse(dataset=dataset, content=content)
    created = updated = 0
    with transaction.atomic(using=current_tenant_alias()):
        existing = {item.standard_id: item for item in master.model.objects.select_for_update()}
        for count, values in enumerate(rows, start=1):
            item = existing.get(values["standard_id"])
            if item is None:
                item = master.model(**values)
                created += 1
            else:
                for name, value in values.items():
                    setattr(item, name, value)
                updated += 1
            item.save()
            if on_row:
                on_row(count)
    return ImportResult(created=created, updated=updated)
