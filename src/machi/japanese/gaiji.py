"""外字: private-use characters in legacy data, the gaiji map, and JIS X 0208 export
(DOMAIN.md §4).

A gaiji map is a CSV with the header ``code,char,evidence``::

    code,char,evidence
    U+E001,髙,戸籍謄本 令和6年4月
    U+E002,葛\U000e0100,住民票原票

>>> gmap = parse_gaiji_map("code,char,evidence\\nU+E001,髙,戸籍\\n")
>>> result = apply_gaiji_map("\\ue001橋", gmap)
>>> result.text, result.replacements[0].code
('髙橋', 'U+E001')
>>> export_jisx0208("髙橋").text
'高橋'
"""

from __future__ import annotations

import csv
import functools
import io
import os
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

from machi.japanese.names import VARIATION_SELECTORS

__all__ = [
    "ExportResult",
    "GaijiEntry",
    "GaijiMap",
    "GaijiMapError",
    "GaijiResult",
    "LossyChar",
    "PrivateUseChar",
    "Replacement",
    "apply_gaiji_map",
    "export_jisx0208",
    "find_private_use",
    "format_code",
    "is_private_use",
    "load_gaiji_map",
    "parse_code",
    "parse_gaiji_map",
]

# Characters that JIS X 0208 holds but jntajis maps to other code points
# (the JIS vs. Microsoft mapping differences: 〜 WAVE DASH → ～ …).
_JIS_MAPPING_DIFFERENCES: Final = {
    "\u301c": "\uff5e",
    "\u2016": "\u2225",
    "\u2212": "\uff0d",
    "\u00a2": "\uffe0",
    "\u00a3": "\uffe1",
    "\u00ac": "\uffe2",
}

#: The substitute written for a character JIS X 0208 cannot hold (〓, ゲタ).
GETA: Final = "\u3013"


def is_private_use(char: str) -> bool:
    """U+E000–U+F8FF and the supplementary private-use planes 15 and 16."""
    cp = ord(char)
    return 0xE000 <= cp <= 0xF8FF or 0xF0000 <= cp <= 0xFFFFD or 0x100000 <= cp <= 0x10FFFD


def format_code(char: str) -> str:
    """``"U+E001"`` for ``"\\ue001"``."""
    return f"U+{ord(char):04X}"


def parse_code(code: str) -> str:
    """The character for ``"U+E001"`` (4–6 hex digits, ``U+`` required)."""
    text = code.strip()
    if len(text) < 6 or len(text) > 8 or text[:2].upper() != "U+":
        raise ValueError(f"コードは U+E001 の形で書いてください: {code!r}")
    try:
        cp = int(text[2:], 16)
    except ValueError:
        raise ValueError(f"コードは U+E001 の形で書いてください: {code!r}") from None
    if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
        raise ValueError(f"コードが Unicode の範囲外です: {code!r}")
    return chr(cp)


@dataclass(frozen=True, slots=True)
class PrivateUseChar:
    """A private-use character found at ``index`` (a code point offset)."""

    index: int
    char: str

    @property
    def code(self) -> str:
        return format_code(self.char)


def find_private_use(text: str) -> list[PrivateUseChar]:
    """Every private-use character of *text*, in order.

    >>> [p.code for p in find_private_use("a\\ue001b\\U000f0001")]
    ['U+E001', 'U+F0001']
    """
    return [PrivateUseChar(i, c) for i, c in enumerate(text) if is_private_use(c)]


# ---------------------------------------------------------------- the map


@dataclass(frozen=True, slots=True)
class GaijiEntry:
    """One row of a gaiji map: ``code`` (``U+E001``) → ``char`` (maybe with an IVS)."""

    code: str
    char: str
    evidence: str
    line: int

    def to_dict(self) -> dict[str, str | int]:
        return {"code": self.code, "char": self.char, "evidence": self.evidence, "line": self.line}


class GaijiMapError(ValueError):
    """A gaiji map has bad lines; :attr:`errors` lists ``(line, message)``."""

    def __init__(self, errors: list[tuple[int, str]], *, source: str = "外字マップ") -> None:
        self.errors = errors
        detail = "\n".join(f"  {line}行目: {message}" for line, message in errors)
        super().__init__(f"{source}に{len(errors)}件の誤りがあります:\n{detail}")


@dataclass(frozen=True, slots=True)
class GaijiMap:
    """A per-municipality gaiji map: private-use character → entry."""

    entries: Mapping[str, GaijiEntry]

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, char: object) -> bool:
        return char in self.entries

    def get(self, char: str) -> GaijiEntry | None:
        return self.entries.get(char)


def _valid_target(char: str) -> str | None:
    """``None`` if *char* is one standard character (optionally + a variation
    selector), else the reason it is not."""
    if not char:
        return "char が空です"
    if any(is_private_use(c) for c in char):
        return f"変換先 {char!r} が外字（私用領域の文字）です"
    base, *rest = char
    if base in VARIATION_SELECTORS:
        return f"変換先 {char!r} が異体字セレクタで始まっています"
    if len(rest) > 1 or (rest and rest[0] not in VARIATION_SELECTORS):
        return f"変換先 {char!r} は1文字（必要なら異体字セレクタ付き）にしてください"
    return None


def parse_gaiji_map(text: str, *, source: str = "外字マップ") -> GaijiMap:
    """Parse the CSV text of a gaiji map (a leading BOM is allowed).

    Every problem is reported at once, with its line number: a malformed line
    (wrong number of fields, a bad code, a code outside private use), a
    duplicate code, a target that is itself private-use or not one character.
    """
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    errors: list[tuple[int, str]] = []
    entries: dict[str, GaijiEntry] = {}
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != ["code", "char", "evidence"]:
        raise GaijiMapError([(1, "見出し行は code,char,evidence にしてください")], source=source)
    line = reader.line_num
    for row in reader:
        first_line, line = line + 1, reader.line_num
        if not row or row == [""]:
            continue
        if len(row) != 3:
            errors.append((first_line, f"項目が{len(row)}個あります（code,char,evidence の3個）"))
            continue
        code_text, char, evidence = row
        try:
            code_char = parse_code(code_text)
        except ValueError as exc:
            errors.append((first_line, str(exc)))
            continue
        code = format_code(code_char)
        if not is_private_use(code_char):
            errors.append((first_line, f"{code} は私用領域（外字）のコードではありません"))
            continue
        if (problem := _valid_target(char)) is not None:
            errors.append((first_line, problem))
            continue
        if code_char in entries:
            errors.append(
                (first_line, f"{code} が重複しています（{entries[code_char].line}行目と同じ）")
            )
            continue
        entries[code_char] = GaijiEntry(code=code, char=char, evidence=evidence, line=first_line)
    if errors:
        raise GaijiMapError(errors, source=source)
    return GaijiMap(MappingProxyType(entries))


def load_gaiji_map(path: str | os.PathLike[str]) -> GaijiMap:
    """Read a gaiji map CSV file (UTF-8, BOM allowed)."""
    p = Path(path)
    return parse_gaiji_map(p.read_text(encoding="utf-8-sig"), source=str(p.name))


# ---------------------------------------------------------------- import direction


@dataclass(frozen=True, slots=True)
class Replacement:
    """One private-use character replaced on import (kept with the record)."""

    index: int
    code: str
    entry: GaijiEntry


@dataclass(frozen=True, slots=True)
class GaijiResult:
    """The mapped text, what was replaced, and what had no map entry."""

    text: str
    replacements: tuple[Replacement, ...]
    unmapped: tuple[PrivateUseChar, ...]

    @property
    def ok(self) -> bool:
        """``False`` when a private-use character had no entry (a validation error)."""
        return not self.unmapped


def apply_gaiji_map(text: str, gaiji_map: GaijiMap) -> GaijiResult:
    """Replace every mapped private-use character of *text*.

    Indexes are code point offsets in the *original* text. Unmapped
    private-use characters stay in ``text`` and are listed in ``unmapped``:
    the importer must reject the row and name the field.
    """
    found = find_private_use(text)
    if not found:
        return GaijiResult(text, (), ())
    out: list[str] = []
    replacements: list[Replacement] = []
    unmapped: list[PrivateUseChar] = []
    last = 0
    for pua in found:
        out.append(text[last : pua.index])
        entry = gaiji_map.get(pua.char)
        if entry is None:
            unmapped.append(pua)
            out.append(pua.char)
        else:
            replacements.append(Replacement(pua.index, entry.code, entry))
            out.append(entry.char)
        last = pua.index + 1
    out.append(text[last:])
    return GaijiResult("".join(out), tuple(replacements), tuple(unmapped))


# ---------------------------------------------------------------- export direction


@dataclass(frozen=True, slots=True)
class LossyChar:
    """A character (or IVS sequence) the export could not write as it is."""

    index: int
    original: str
    replacement: str

    @property
    def code(self) -> str:
        return " ".join(format_code(c) for c in self.original)


@dataclass(frozen=True, slots=True)
class ExportResult:
    text: str
    lossy: tuple[LossyChar, ...]


def _is_ascii_printable(char: str) -> bool:
    return " " <= char <= "~"


@functools.lru_cache(maxsize=8192)
def _shrink(char: str) -> str:
    """JIS X 0208 form of one character: itself, its 縮退 or 〓."""
    import jntajis

    from machi.japanese.variants import in_jisx0208

    if _is_ascii_printable(char) or in_jisx0208(char):
        return char
    if is_private_use(char):
        return GETA
    if char in _JIS_MAPPING_DIFFERENCES:
        return _JIS_MAPPING_DIFFERENCES[char]
    folded = unicodedata.normalize("NFKC", char)
    if folded != char and all(_is_ascii_printable(c) or in_jisx0208(c) for c in folded):
        return folded  # half-width katakana, compatibility ideographs…
    for candidate in jntajis.mj_shrink_candidates(char, int(jntajis.MJShrinkSchemeCombo(15))):
        if candidate != char and in_jisx0208(candidate):
            return candidate
    translit = jntajis.jnta_shrink_translit(char, replacement="\ufffd")
    if (
        translit
        and "\ufffd" not in translit
        and all(_is_ascii_printable(c) or in_jisx0208(c) for c in translit)
    ):
        return translit
    return GETA


def _units(text: str) -> Iterator[tuple[int, str]]:
    """(index, character + following variation selectors)."""
    i = 0
    n = len(text)
    while i < n:
        j = i + 1
        while j < n and text[j] in VARIATION_SELECTORS:
            j += 1
        yield i, text[i:j]
        i = j


def export_jisx0208(text: str) -> ExportResult:
    """A copy of *text* that a JIS X 0208-only partner can take, and every lossy
    character (縮退 to another character, 〓 for no equivalent, a dropped
    variation selector). Printable ASCII (JIS X 0201 Roman) passes through.

    The result is for the partner only: never write it back to the master.

    >>> r = export_jisx0208("𠮷田\\ue001")
    >>> r.text, [(x.original, x.replacement) for x in r.lossy]
    ('吉田〓', [('𠮷', '吉'), ('\\ue001', '〓')])
    """
    out: list[str] = []
    lossy: list[LossyChar] = []
    for index, unit in _units(text):
        base = unit[0]
        written = _shrink(base) if base not in VARIATION_SELECTORS else ""
        out.append(written)
        if written != unit:
            lossy.append(LossyChar(index, unit, written))
    return ExportResult("".join(out), tuple(lossy))
