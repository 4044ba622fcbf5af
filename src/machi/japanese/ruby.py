"""ふりがな for やさしい日本語: ``<ruby>`` readings on kanji above a school grade.

The 出入国在留管理庁・文化庁 guidelines for やさしい日本語 ask for readings on kanji a
reader may not know. Which kanji those are is a per-municipality setting: readings on
every word that holds a kanji beyond grade N of the 学年別漢字配当表 (教育漢字, 1,026
kanji, ``data/kyoiku_kanji.tsv``; a kanji outside it counts as beyond every grade).

Readings come from SudachiPy (the core dictionary, shared with the FAQ search) and
are written in hiragana over the kanji only: 食べる → ``<ruby>食<rt>た</rt></ruby>べる``.
Staff correct readings with a list word → reading (place names, 読み癖) that is
applied before SudachiPy and always shown. Numbers, Latin letters and the counter
kanji directly after a number (``1日``: ついたち or いちにち only the context knows)
stay as they are.

Pure Python: :func:`text_html` for plain text (escaped), :func:`html_ruby` for
sanitised HTML (text nodes only), both cached per text.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterable, Mapping
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import jaconv

DATA = Path(__file__).parent / "data" / "kyoiku_kanji.tsv"
GRADES = range(0, 7)
DEFAULT_GRADE = 2  # readings on everything beyond the kanji of the second school year

Segment = tuple[str, str | None]  # (text, its reading in hiragana, or None: no ruby)
Corrections = tuple[tuple[str, str], ...]

_KANJI_RUN = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff々〆ヶヵ〇]+"
)
_KANA_READING = re.compile(r"^[\u3041-\u3096\u30a1-\u30faー・\u3099-\u309c]+$")
_DIGITS = re.compile(r"[0-9０-９]+$")


@lru_cache(maxsize=1)
def kanji_grades() -> dict[str, int]:
    """Kanji → school grade (1–6) of the 学年別漢字配当表."""
    grades: dict[str, int] = {}
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        grade, kanji = line.split("\t")
        grades.update(dict.fromkeys(kanji, int(grade)))
    return grades


def is_kanji(char: str) -> bool:
    return bool(_KANJI_RUN.fullmatch(char)) and char not in "々〆ヶヵ〇"


def above_grade(word: str, grade: int) -> bool:
    """Whether *word* holds a kanji a reader who learnt grades 1–*grade* may not know."""
    grades = kanji_grades()
    return any(is_kanji(c) and grades.get(c, 7) > grade for c in word)


def valid_reading(reading: str) -> bool:
    """A correction's reading: kana only (hiragana or katakana)."""
    return bool(_KANA_READING.match(reading))


# --- SudachiPy ---------------------------------------------------------------------------------

_dictionary_lock = threading.Lock()
_dictionary = None
_local = threading.local()


def tokenizer():
    """This thread's SudachiPy tokenizer over the one core dictionary of the process
    (a tokenizer is not thread-safe; the dictionary is, and is large)."""
    found = getattr(_local, "tokenizer", None)
    if found is None:
        global _dictionary
        with _dictionary_lock:
            if _dictionary is None:
                from sudachipy import Dictionary

                _dictionary = Dictionary(dict="core")
        found = _local.tokenizer = _dictionary.tokenizer()
    return found


# --- readings ----------------------------------------------------------------------------------


def align(surface: str, reading: str) -> list[Segment]:
    """The reading of each kanji run of *surface* (its kana stay bare): 食べる with たべる
    gives ``[("食", "た"), ("べる", None)]``. A reading that does not fit the kana of
    the surface goes over the whole word."""
    reading = jaconv.kata2hira(reading)
    parts: list[tuple[str, bool]] = []
    position = 0
    for run in _KANJI_RUN.finditer(surface):
        if run.start() > position:
            parts.append((surface[position : run.start()], False))
        parts.append((run.group(), True))
        position = run.end()
    if position < len(surface):
        parts.append((surface[position:], False))
    pattern = "".join(
        "(.+?)" if kanji else re.escape(jaconv.kata2hira(jaconv.h2z(text, kana=True)))
        for text, kanji in parts
    )
    found = re.fullmatch(pattern, reading)
    if found is None:
        return [(surface, reading)]
    groups = iter(found.groups())
    return [(text, next(groups) if kanji else None) for text, kanji in parts]


def _sudachi_segments(text: str, grade: int) -> list[Segment]:
    from sudachipy import SplitMode

    segments: list[Segment] = []
    after_number = False
    for morpheme in tokenizer().tokenize(text, SplitMode.C):
        surface = morpheme.surface()
        reading = morpheme.reading_form()
        counter = after_number and len(surface) == 1
        after_number = bool(_DIGITS.match(surface))
        if (
            counter
            or not above_grade(surface, grade)
            or not valid_reading(reading)
            or jaconv.kata2hira(reading) == jaconv.kata2hira(surface)
        ):
            segments.append((surface, None))
        else:
            segments.extend(align(surface, reading))
    return segments


@lru_cache(maxsize=8192)
def _segments(text: str, grade: int, corrections: Corrections) -> tuple[Segment, ...]:
    if not _KANJI_RUN.search(text):
        return ((text, None),) if text else ()
    segments: list[Segment] = []
    words = sorted((word for word, _ in corrections if word), key=len, reverse=True)
    if words:
        readings = dict(corrections)
        pieces = re.split("(" + "|".join(map(re.escape, words)) + ")", text)
    else:
        readings, pieces = {}, [text]
    for index, piece in enumerate(pieces):
        if not piece:
            continue
        if index % 2:  # a corrected word: staff's reading, always shown
            segments.extend(align(piece, readings[piece]))
        else:
            segments.extend(_sudachi_segments(piece, grade))
    merged: list[Segment] = []
    for text_part, reading in segments:
        if reading is None and merged and merged[-1][1] is None:
            merged[-1] = (merged[-1][0] + text_part, None)
        else:
            merged.append((text_part, reading))
    return tuple(merged)


def normalise_corrections(
    corrections: Mapping[str, str] | Iterable[tuple[str, str]],
) -> Corrections:
    pairs = corrections.items() if isinstance(corrections, Mapping) else corrections
    return tuple(sorted((word, jaconv.kata2hira(reading)) for word, reading in pairs if word))


def segments(
    text: str,
    *,
    grade: int = DEFAULT_GRADE,
    corrections: Mapping[str, str] | Iterable[tuple[str, str]] = (),
) -> list[Segment]:
    """*text* cut into pieces, each with its reading where ruby is due."""
    if grade not in GRADES:
        raise ValueError(f"grade must be 0–6, not {grade!r}")
    return list(_segments(text, grade, normalise_corrections(corrections)))


def _render(parts: Iterable[Segment]) -> str:
    out = []
    for text, reading in parts:
        base = html.escape(text, quote=False)
        if reading is None:
            out.append(base)
        else:
            out.append(f"<ruby>{base}<rt>{html.escape(reading, quote=False)}</rt></ruby>")
    return "".join(out)


def text_html(
    text: str,
    *,
    grade: int = DEFAULT_GRADE,
    corrections: Mapping[str, str] | Iterable[tuple[str, str]] = (),
) -> str:
    """Plain *text*, HTML-escaped, with ``<ruby>`` readings."""
    return _render(segments(text, grade=grade, corrections=corrections))


# --- sanitised HTML ----------------------------------------------------------------------------

# Elements whose text must stay plain: ruby cannot nest, option/title/textarea take no
# markup, code is code.
_SKIP = frozenset({"ruby", "rt", "rp", "code", "pre", "kbd", "samp", "script", "style",
                   "textarea", "option", "title", "svg", "math"})  # fmt: skip
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                   "meta", "source", "track", "wbr"})  # fmt: skip


class _RubyWalker(HTMLParser):
    def __init__(self, grade: int, corrections: Corrections) -> None:
        super().__init__(convert_charrefs=False)
        self.grade, self.corrections = grade, corrections
        self.out: list[str] = []
        self.text: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # open elements, and whether text stays bare

    @property
    def skipping(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def flush(self) -> None:
        if not self.text:
            return
        raw = "".join(self.text)
        self.text = []
        if self.skipping or not _KANJI_RUN.search(raw):
            self.out.append(raw)
        else:
            self.out.append(_render(_segments(html.unescape(raw), self.grade, self.corrections)))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.flush()
        self.out.append(self.get_starttag_text() or "")
        if tag in _VOID:
            return
        values = dict(attrs)
        lang = values.get("lang")
        skip = (
            self.skipping
            or tag in _SKIP
            or values.get("data-ruby") == "off"
            or (lang is not None and not lang.lower().startswith("ja"))
        )
        self.stack.append((tag, skip))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.flush()
        self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        self.flush()
        self.out.append(f"</{tag}>")
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                break

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        self.text.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.text.append(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        self.flush()
        self.out.append(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.flush()
        self.out.append(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        self.flush()
        self.out.append(f"<?{data}>")

    def unknown_decl(self, data: str) -> None:
        self.flush()
        self.out.append(f"<![{data}]>")


def html_ruby(
    markup: str,
    *,
    grade: int = DEFAULT_GRADE,
    corrections: Mapping[str, str] | Iterable[tuple[str, str]] = (),
) -> str:
    """Sanitised *markup* with ``<ruby>`` readings in its text nodes; tags and
    attributes are copied as they are, and the text of ruby, code, form options and
    elements in another language (``lang="en"``) or marked ``data-ruby="off"`` is left
    alone."""
    if grade not in GRADES:
        raise ValueError(f"grade must be 0–6, not {grade!r}")
    if not _KANJI_RUN.search(markup):
        return markup
    return _html_ruby(markup, grade, normalise_corrections(corrections))


@lru_cache(maxsize=1024)
def _html_ruby(markup: str, grade: int, corrections: Corrections) -> str:
    walker = _RubyWalker(grade, corrections)
    walker.feed(markup)
    walker.close()
    walker.flush()
    return "".join(walker.out)


_RT = re.compile(r"<rt>.*?</rt>", re.S)


def strip_ruby(markup: str) -> str:
    """*markup* without the readings (``<ruby>`` and ``<rt>`` removed): the inverse of
    :func:`html_ruby` on markup without ruby of its own."""
    return _RT.sub("", markup).replace("<ruby>", "").replace("</ruby>", "")
