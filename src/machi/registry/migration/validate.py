"""Reading and validating the import CSV: pure Python, no database.

Every problem is a :class:`Problem` — ``line N, column 列名: reason`` where N is the
physical line in the file (the header is line 1). A row's values never appear in a
reason except the harmless ones (a code, a relationship); a My Number never does.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, Final

from machi.japanese import (
    CodeError,
    DateParseError,
    GaijiMap,
    JapaneseDate,
    apply_gaiji_map,
    parse_date,
    to_katakana_fullwidth,
    validate_atena_number,
    validate_my_number,
)
from machi.registry.migration.layout import (
    BY_NAME,
    CHOICE_LABELS,
    COLUMNS,
    REJECT_COLUMN,
    Column,
)
from machi.registry.relationships import relationship_problem

_PRIVATE_USE: Final = re.compile("[\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd]")
_NUMBER: Final = re.compile(r"[0-9A-Za-z\-]+")
_KANA: Final = re.compile(r"[\u30a0-\u30ff\u31f0-\u31ff\u3099\u309a\u3000 ＝=]*")
_POSTAL: Final = re.compile(r"(\d{3})-?(\d{4})")
_DATE_CACHE_LIMIT: Final = 500_000


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem of the file: ``line N, column 列名: reason``."""

    line: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.reason}"


class HeaderError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


# ---------------------------------------------------------------- reading the file


def decoded_lines(stream: BinaryIO, bad_lines: set[int], counter: list[int]) -> Iterator[str]:
    """The file's lines as text (UTF-8, BOM removed, line ends kept for the csv module).

    A line that is not UTF-8 is decoded with replacement characters and its number
    added to ``bad_lines``; ``counter[0]`` is the number of bytes read so far.
    """
    for number, raw in enumerate(stream, start=1):
        counter[0] += len(raw)
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            bad_lines.add(number)
            yield raw.decode("utf-8", errors="replace")


def csv_rows(lines: Iterable[str]) -> Iterator[tuple[int, int, list[str]]]:
    """(first line, last line, fields) of every non-empty record (physical lines)."""
    reader = csv.reader(lines, strict=False)
    last = 0
    for row in reader:
        start, last = last + 1, reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        yield start, last, row


# ---------------------------------------------------------------- validating


def _date_reason(error: DateParseError) -> str:
    # DateParseError's message ends with ": '<text>'"; the reason alone is enough.
    return str(error).removesuffix(f": {error.text!r}")


def _code_reason(error: CodeError) -> str:
    return str(error).removesuffix(f": {error.value!r}")


_MY_NUMBER_REASONS: Final = {
    "length": "個人番号は12桁です",
    "non_digit": "個人番号に数字以外の文字が含まれています",
    "check_digit": "個人番号のチェックデジットが正しくありません",
}


def _my_number_ok(text: str) -> bool:
    """The common case of ``validate_my_number``, fast: 12 ASCII digits with the right
    check digit (weights 6,5,4,3,2,7,6,5,4,3,2; DOMAIN.md §2)."""
    if len(text) != 12 or not text.isascii() or not text.isdigit():
        return False
    d = text.encode()
    total = (
        6 * d[0] + 5 * d[1] + 4 * d[2] + 3 * d[3] + 2 * d[4] + 7 * d[5]
        + 6 * d[6] + 5 * d[7] + 4 * d[8] + 3 * d[9] + 2 * d[10] - 47 * 48
    )  # fmt: skip
    return d[11] - 48 == -total % 11 % 10


class RowValidator:
    """Validates the rows of one file against its header.

    ``validate(line, row)`` gives ``(record, problems)``: ``record`` maps Resident
    field names (plus ``household_number``, ``gaiji`` and ``line``) to the values to
    store, for the columns the file has; it is ``None`` when there are problems.
    """

    def __init__(
        self,
        header: list[str],
        *,
        gaiji_map: GaijiMap | None = None,
        check_atena_digits: bool = False,
    ) -> None:
        self.gaiji_map = gaiji_map
        self.check_atena_digits = check_atena_digits
        self.columns: list[tuple[int, Column]] = []
        self.width = len(header)
        self.unmapped: dict[str, int] = {}  # code → occurrences
        self.replacements = 0
        self._dates: dict[str, JapaneseDate | str] = {}
        self._relationships: dict[str, str | None] = {}
        problems: list[Problem] = []
        seen: dict[str, int] = {}
        unknown: list[str] = []
        for index, raw_name in enumerate(header):
            name = raw_name.strip()
            if name == REJECT_COLUMN:
                continue
            if name in seen:
                problems.append(Problem(1, name, "列が重複しています"))
                continue
            seen[name] = index
            column = BY_NAME.get(name)
            if column is None:
                unknown.append(name or f"（{index + 1}列目・名前なし）")
                continue
            self.columns.append((index, column))
        if unknown:
            problems.append(Problem(1, None, f"知らない列があります: {'、'.join(unknown)}"))
        for column in COLUMNS:
            if column.required and column.name not in seen:
                problems.append(Problem(1, column.name, "必須の列がありません"))
        if problems:
            raise HeaderError(problems)
        self.present = frozenset(c.field for _, c in self.columns)
        self._index = {c.name: i for i, c in self.columns}

    # ------------------------------------------------------------ helpers

    def _date(self, text: str) -> JapaneseDate | str:
        cached = self._dates.get(text)
        if cached is None:
            try:
                cached = parse_date(text)
            except DateParseError as error:
                cached = _date_reason(error)
            if len(self._dates) < _DATE_CACHE_LIMIT:
                self._dates[text] = cached
        return cached

    def _relationship(self, text: str) -> str | None:
        try:
            return self._relationships[text]
        except KeyError:
            problem = self._relationships[text] = relationship_problem(text)
            return problem

    def _gaiji(
        self, line: int, row: list[str], problems: list[Problem]
    ) -> list[dict[str, Any]] | None:
        """Replace mapped private-use characters in ``row`` (in place); evidence list."""
        evidence: list[dict[str, Any]] = []
        for index, column in self.columns:
            value = row[index]
            if not _PRIVATE_USE.search(value):
                continue
            if self.gaiji_map is None:
                for char in _PRIVATE_USE.findall(value):
                    code = f"U+{ord(char):04X}"
                    self.unmapped[code] = self.unmapped.get(code, 0) + 1
                    problems.append(
                        Problem(line, column.name, f"外字 {code} が外字マップにありません")
                    )
                continue
            result = apply_gaiji_map(value, self.gaiji_map)
            for pua in result.unmapped:
                self.unmapped[pua.code] = self.unmapped.get(pua.code, 0) + 1
                problems.append(
                    Problem(
                        line,
                        column.name,
                        f"外字 {pua.code}（{pua.index + 1}文字目）が外字マップにありません",
                    )
                )
            for replacement in result.replacements:
                entry = replacement.entry
                evidence.append(
                    {
                        "column": column.name,
                        "index": replacement.index,
                        "code": replacement.code,
                        "char": entry.char,
                        "evidence": entry.evidence,
                    }
                )
            row[index] = result.text
        return evidence

    # ------------------------------------------------------------ one row

    def validate(self, line: int, row: list[str]) -> tuple[dict[str, Any] | None, list[Problem]]:
        problems: list[Problem] = []
        if len(row) != self.width:
            problems.append(
                Problem(
                    line,
                    None,
                    f"項目の数が見出しと違います（{len(row)}個、見出しは{self.width}個）",
                )
            )
            return None, problems
        evidence: list[dict[str, Any]] = []
        if _PRIVATE_USE.search("".join(row)):
            row = list(row)  # the caller keeps the row as read (for the rejects file)
            evidence = self._gaiji(line, row, problems) or []
        record: dict[str, Any] = {"line": line, "gaiji": evidence}
        for index, column in self.columns:
            value = row[index]
            name = column.name
            kind = column.kind
            if kind == "text":
                if column.required and not value.strip():
                    problems.append(Problem(line, name, "入力してください"))
                elif len(value) > column.max_length:
                    problems.append(
                        Problem(line, name, f"{column.max_length}文字までです（{len(value)}文字）")
                    )
                record[column.field] = value
            elif kind == "code":
                value = value.strip()
                if value not in column.choices:
                    reason = (
                        "入力してください"
                        if not value
                        else f"{name}は{CHOICE_LABELS[name]}です（{value[:10]!r}）"
                    )
                    problems.append(Problem(line, name, reason))
                record[column.field] = value
            elif kind == "date":
                text = value.strip()
                if not text:
                    if column.required:
                        problems.append(Problem(line, name, "入力してください"))
                    record[column.field] = None
                    continue
                parsed = self._date(text)
                if isinstance(parsed, str):
                    problems.append(Problem(line, name, parsed))
                else:
                    record[column.field] = parsed
            elif kind == "kana":
                kana = to_katakana_fullwidth(value)
                if len(kana) > column.max_length:
                    problems.append(
                        Problem(line, name, f"{column.max_length}文字までです（{len(kana)}文字）")
                    )
                elif not _KANA.fullmatch(kana):
                    bad = next(c for c in kana if not _KANA.fullmatch(c))
                    problems.append(
                        Problem(line, name, f"フリガナにカタカナ以外の文字「{bad}」があります")
                    )
                record[column.field] = kana
            elif kind == "number":
                value = value.strip()
                label = name
                if not value:
                    problems.append(Problem(line, name, "入力してください"))
                elif len(value) > column.max_length or not _NUMBER.fullmatch(value):
                    problems.append(
                        Problem(
                            line,
                            name,
                            f"{label}は半角の英数字（とハイフン）{column.max_length}文字までです",
                        )
                    )
                elif self.check_atena_digits:
                    try:
                        validate_atena_number(value, label=label)
                    except CodeError as error:
                        problems.append(Problem(line, name, _code_reason(error)))
                record["household_number" if column.field == "household" else column.field] = value
            elif kind == "relationship":
                value = value.strip()
                if (problem := self._relationship(value)) is not None:
                    problems.append(Problem(line, name, problem))
                record[column.field] = value
            elif kind == "postal":
                text = unicodedata.normalize("NFKC", value).strip()
                if text:
                    match = _POSTAL.fullmatch(text)
                    if match is None:
                        problems.append(
                            Problem(line, name, "郵便番号は7桁の数字です（例 100-0001）")
                        )
                    else:
                        text = match[1] + match[2]
                record[column.field] = text
            elif kind == "my_number":
                text = value.strip()
                if text and not _my_number_ok(text):
                    try:
                        text = validate_my_number(text)  # full-width digits, or the reason
                    except CodeError as error:
                        problems.append(
                            Problem(
                                line,
                                name,
                                _MY_NUMBER_REASONS.get(error.reason, "個人番号が正しくありません"),
                            )
                        )
                        text = ""
                record[column.field] = text
        if (
            record.get("resident_type") == "2"
            and "nationality" in record
            and not record["nationality"].strip()
        ) or (record.get("resident_type") == "2" and "nationality" not in record):
            problems.append(
                Problem(line, "国籍", "外国人住民（住民種別 2）は国籍を入力してください")
            )
        if problems:
            return None, problems
        self.replacements += len(evidence)
        return record, problems
