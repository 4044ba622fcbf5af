"""The kanji variant table behind :func:`machi.japanese.kanji_key` (DOMAIN.md §4).

Every character maps to the *representative* of its family (髙 → 高, 齋 → 斎,
𠮷 → 吉). The table is built from three sources, in increasing priority:

1. **MJ 縮退 candidates** (``jntajis.mj_shrink_candidates`` with all four
   schemes) — used only for characters *outside* JIS X 0208, which is what 縮退
   means (a JIS X 0208 character degrades to itself). For characters inside
   JIS X 0208 the candidates are not usable as a variant relation: they run
   from new to old forms (寿 → 壽, 真 → 眞), across unrelated characters
   (玉 → 王, 着 → 著, 師 → 帥) and in cycles (切 ↔ 功). A character whose
   candidates lead to two different representatives (夈 → 粂 or 斎) is left
   alone rather than guessed.
2. **旧字体 → 新字体** from the 常用漢字表 (平成22年内閣告示第2号), all 364
   pairs, shipped as ``data/kyujitai.csv``.
3. The **curated list** of DOMAIN.md §4 (:data:`CURATED`), which wins over both.

Chains are resolved (㑎 → 徑 → 径 becomes 㑎 → 径) and the build fails on a
cycle, so the mapping is idempotent: the representative of a representative is
itself. 斎 and 斉 stay different families (checked at build time).

Building needs ~0.3 s, so the result is shipped as ``data/variants.txt`` and
loaded at first use; a test checks that the shipped file equals a fresh build.
Regenerate it after changing a source or upgrading jntajis::

    python -m machi.japanese.variants --write
"""

from __future__ import annotations

import csv
import functools
import sys
import unicodedata
from collections.abc import Iterator, Mapping
from importlib import resources
from types import MappingProxyType
from typing import Final

__all__ = [
    "CURATED",
    "build_variant_table",
    "in_jisx0208",
    "load_kyujitai",
    "load_variant_table",
    "representative",
    "variant_family",
]

#: DOMAIN.md §4: the curated list the table must cover (variant → representative).
CURATED: Final[Mapping[str, str]] = MappingProxyType(
    {
        "髙": "高",
        "\ufa11": "崎",  # 﨑
        "嵜": "崎",
        "邊": "辺",
        "邉": "辺",
        "齋": "斎",
        "齊": "斉",
        "澤": "沢",
        "濱": "浜",
        "濵": "浜",
        "德": "徳",
        "\U00020bb7": "吉",  # 𠮷
        "國": "国",
        "廣": "広",
        "櫻": "桜",
        "嶋": "島",
        "嶌": "島",
        "冨": "富",
        "槇": "槙",
        "瀨": "瀬",
        "眞": "真",
        "惠": "恵",
        "實": "実",
        "黑": "黒",
        "寬": "寛",
        "籘": "藤",
    }
)

_DATA = "machi.japanese.data"
_VARIANTS_FILE: Final = "variants.txt"
_KYUJITAI_FILE: Final = "kyujitai.csv"

# CJK unified ideographs (BMP + extensions A–H) and the compatibility blocks.
_CJK_RANGES: Final = (
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2EBEF),
    (0x2F800, 0x2FA1F),
    (0x30000, 0x323AF),
)


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def in_jisx0208(char: str) -> bool:
    """``True`` when *char* is a JIS X 0208 character (per jntajis's mapping).

    >>> in_jisx0208("高"), in_jisx0208("髙")
    (True, False)
    """
    import jntajis

    try:
        jntajis.jnta_encode("shift_jis", char, jntajis.ConversionMode.JISX0208)
    except UnicodeEncodeError:
        return False
    return True


def load_kyujitai() -> dict[str, str]:
    """The 364 旧字体 → 新字体 pairs of the 常用漢字表 (``data/kyujitai.csv``)."""
    text = resources.files(_DATA).joinpath(_KYUJITAI_FILE).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    pairs: dict[str, str] = {}
    for row in csv.DictReader(lines):
        old, new = row["old"], row["new"]
        if f"U+{ord(old):04X}" != row["old_code"] or len(new) != 1:
            raise ValueError(f"kyujitai.csv: bad row {row!r}")
        pairs[old] = new
    return pairs


def _resolve(mapping: Mapping[str, str], char: str) -> str:
    seen = [char]
    while char in mapping:
        char = mapping[char]
        if char in seen:
            raise ValueError(f"variant cycle: {' → '.join([*seen, char])}")
        seen.append(char)
    return char


def _close(mapping: Mapping[str, str]) -> dict[str, str]:
    """Resolve chains so that every value is a fixed point; drop identities."""
    closed = {k: _resolve(mapping, k) for k in mapping}
    return {k: v for k, v in closed.items() if k != v}


def _cjk_chars() -> Iterator[str]:
    for first, last in _CJK_RANGES:
        for cp in range(first, last + 1):
            yield chr(cp)


def build_variant_table() -> dict[str, str]:
    """Build the variant → representative table from its three sources.

    Keys and values are single code points that NFKC leaves unchanged (the
    key function applies NFKC first, so other keys could never be looked up).
    """
    import jntajis

    all_schemes = int(jntajis.MJShrinkSchemeCombo(15))

    base: dict[str, str] = {}
    for old, new in load_kyujitai().items():
        old = _nfkc(old)
        if old != new:
            base[old] = new
    base.update(CURATED)
    base = _close(base)

    def via_base(char: str) -> str:
        return base.get(char, char)

    mj: dict[str, str] = {}
    pending: dict[str, list[str]] = {}
    for char in _cjk_chars():
        if char in base or _nfkc(char) != char or in_jisx0208(char):
            continue
        candidates = jntajis.mj_shrink_candidates(char, all_schemes)
        others = list(dict.fromkeys(_nfkc(c) for c in candidates if _nfkc(c) != char))
        others = [c for c in others if len(c) == 1]
        if not others:
            continue
        in_0208 = {via_base(c) for c in others if in_jisx0208(c)}
        if len(in_0208) == 1:
            mj[char] = in_0208.pop()
        elif not in_0208:
            pending[char] = others
        # several JIS X 0208 targets: ambiguous, left alone

    table = {**mj, **base}
    for char, others in pending.items():
        targets = set()
        for other in others:
            try:
                targets.add(_resolve(table, other))
            except ValueError:
                targets.add("")  # a cycle among non-JIS characters: ambiguous
        targets.discard(char)
        if len(targets) == 1 and "" not in targets:
            table[char] = targets.pop()

    # Break cycles among non-JIS X 0208 characters (no representative chosen).
    safe: dict[str, str] = {}
    for char in table:
        try:
            _resolve(table, char)
        except ValueError:
            continue
        safe[char] = table[char]
    table = _close(safe)
    _check_table(table)
    return table


def _check_table(table: Mapping[str, str]) -> None:
    for variant, rep in CURATED.items():
        if table.get(variant) != rep:
            raise ValueError(f"curated pair {variant} → {rep} lost")
    for char, rep in table.items():
        if rep in table:
            raise ValueError(f"chain left: {char} → {rep} → {table[rep]}")
        if _nfkc(char) != char or _nfkc(rep) != rep:
            raise ValueError(f"NFKC-unstable entry {char} → {rep}")
    if table.get("斎", "斎") != "斎" or table.get("斉", "斉") != "斉":
        raise ValueError("斎 or 斉 is not its own representative")


def _format_table(table: Mapping[str, str]) -> str:
    families: dict[str, list[str]] = {}
    for variant, rep in table.items():
        families.setdefault(rep, []).append(variant)
    lines = [
        "# machi kanji variant table: representative<TAB>variants (generated by",
        "# `python -m machi.japanese.variants --write`; do not edit by hand).",
    ]
    for rep in sorted(families, key=ord):
        lines.append(rep + "\t" + "".join(sorted(families[rep], key=ord)))
    return "\n".join(lines) + "\n"


def _parse_table(text: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        rep, variants = line.split("\t")
        for variant in variants:
            table[variant] = rep
    return table


@functools.cache
def load_variant_table() -> Mapping[str, str]:
    """The shipped variant → representative table (read-only, loaded once)."""
    text = resources.files(_DATA).joinpath(_VARIANTS_FILE).read_text(encoding="utf-8")
    return MappingProxyType(_parse_table(text))


def representative(char: str) -> str:
    """The representative of one character (itself when it has no variant).

    >>> representative("髙"), representative("高"), representative("斉")
    ('高', '高', '斉')
    """
    return load_variant_table().get(char, char)


def variant_family(char: str) -> frozenset[str]:
    """Every character with the same representative as *char* (including it).

    >>> sorted(variant_family("斎")) == sorted("斎齋" + "".join(
    ...     c for c, r in load_variant_table().items() if r == "斎" and c != "齋"))
    True
    """
    rep = representative(char)
    return frozenset({rep, char} | {c for c, r in load_variant_table().items() if r == rep})


def _main(argv: list[str]) -> int:
    table = build_variant_table()
    out = _format_table(table)
    if "--write" in argv:
        path = resources.files(_DATA).joinpath(_VARIANTS_FILE)
        with resources.as_file(path) as real:
            real.write_text(out, encoding="utf-8")
        print(f"wrote {len(table)} variants to {path}")
    else:
        sys.stdout.write(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
