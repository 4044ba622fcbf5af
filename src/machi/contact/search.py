"""Japanese text for the FAQ search: SudachiPy normalisation, kana/width folding,
synonyms, and search terms.

An answer's question, keywords and answer text each become a string of terms
``" 住民票 写し 請求 住民 票 … "``: the dictionary's normalised form of every
content word (split modes C and A, so 住民票 and 住民 / 票 both match) and its
surface form. The spaces around each term let a trigram index (SQLite FTS5,
PostgreSQL pg_trgm) match a whole term, even one of one kanji (" 税 ").

A query becomes *groups* of terms: each content word with its reading and its
synonyms (``data/synonyms.txt`` plus the municipality's own). A kana-only run of the
query (じゅうみんひょう) is also cut into the readings the answers' terms have, since
Sudachi cannot analyse kana-only text reliably.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import jaconv

_SKIP_POS = {"助詞", "助動詞", "補助記号", "空白", "記号"}
# words too general to say what a question is about
_STOP = {
    "する", "ある", "居る", "いる", "成る", "なる", "れる", "られる", "思う", "良い", "いい",
    "教える", "知る", "分かる", "こと", "もの", "よう", "方", "ため", "時", "何", "どう",
    "どこ", "いつ", "下さい", "ください", "出来る", "できる", "為る", "有る", "事", "物",
    "場合", "について", "方法", "必要", "たい", "手続き", "手続", "手続く",
}  # fmt: skip
_KANA_RUN = re.compile(r"[\u3041-\u3096\u30a1-\u30faー]{3,}")
_MIN_READING = 3
DATA = Path(__file__).parent / "data"


def _tokenizer():
    # One core dictionary per process, shared with the ふりがな of やさしい日本語.
    from machi.japanese.ruby import tokenizer

    return tokenizer()


def fold(text: str) -> str:
    """Width and compatibility folding (ｼﾞｭｳﾐﾝﾋｮｳ → ジュウミンヒョウ, ＡＢＣ → ABC) on a copy."""
    text = jaconv.h2z(text, kana=True, ascii=False, digit=False)
    return unicodedata.normalize("NFKC", text).casefold()


@functools.lru_cache(maxsize=8192)
def _fold_word(word: str) -> str:
    """fold() of a query word (the same few words come back in every snippet)."""
    return fold(word)


def kata(text: str) -> str:
    return jaconv.hira2kata(text)


@dataclass(frozen=True)
class Token:
    surface: str
    term: str  # normalised form
    reading: str  # katakana


def tokens(text: str) -> list[Token]:
    """Content words of *text* in modes C then A (duplicates removed, order kept)."""
    from sudachipy import SplitMode

    text = fold(text)
    seen: set[tuple[str, str]] = set()
    found: list[Token] = []
    for mode in (SplitMode.C, SplitMode.A):
        for m in _tokenizer().tokenize(text, mode):
            if m.part_of_speech()[0] in _SKIP_POS:
                continue
            term = m.normalized_form()
            if term in _STOP or m.dictionary_form() in _STOP or not term.strip():
                continue
            key = (m.surface(), term)
            if key in seen:
                continue
            seen.add(key)
            found.append(Token(m.surface(), term, m.reading_form()))
    return found


def terms_of(text: str) -> list[str]:
    """The index terms of *text*: normalised forms and surfaces (readings are kept
    apart, in :func:`readings_of`, for queries typed in kana)."""
    result: dict[str, None] = {}
    for token in tokens(text):
        for term in (token.term, token.surface):
            if term and " " not in term:
                result.setdefault(term, None)
    return list(result)


def as_field(terms: Iterable[str]) -> str:
    terms = [t for t in terms if t]
    return f" {' '.join(terms)} " if terms else ""


def readings_of(text: str) -> list[str]:
    """``reading=term`` pairs for queries in kana (readings of 3 kana or more)."""
    pairs: dict[str, None] = {}
    for token in tokens(text):
        if len(token.reading) >= _MIN_READING and token.reading != token.term:
            pairs.setdefault(f"{token.reading}={token.term}", None)
    return list(pairs)


@functools.lru_cache(maxsize=1)
def default_synonyms() -> tuple[tuple[str, ...], ...]:
    lines = (DATA / "synonyms.txt").read_text(encoding="utf-8").splitlines()
    return tuple(tuple(line.split()) for line in lines if line.strip() and not line.startswith("#"))


class Synonyms:
    """Word → every word of its groups, each word in all its forms (folded, normalised,
    reading), so that ごみ, ゴミ and 塵 meet."""

    def __init__(self, groups: Iterable[Iterable[str]]) -> None:
        self._map: dict[str, set[str]] = {}
        for group in groups:
            forms: set[str] = set()
            for word in group:
                forms |= _forms(word)
            for form in forms:
                self._map.setdefault(form, set()).update(forms)

    def expand(self, term: str) -> set[str]:
        return self._map.get(term, set())


@functools.lru_cache(maxsize=4096)
def _forms(word: str) -> frozenset[str]:
    folded = fold(word)
    forms = {folded, kata(folded)}
    analysed = tokens(folded)
    if len(analysed) == 1:
        forms |= {analysed[0].term, analysed[0].reading}
    return frozenset(f for f in forms if f and " " not in f)


@dataclass(frozen=True)
class Query:
    text: str
    groups: tuple[frozenset[str], ...]  # each group: alternatives for one query word
    surfaces: tuple[str, ...]  # what to look for in the answer text (snippets)

    @property
    def terms(self) -> frozenset[str]:
        return frozenset().union(*self.groups) if self.groups else frozenset()


def analyse_query(
    text: str, *, synonyms: Synonyms, readings: dict[str, str], longest: int | None = None
) -> Query:
    """The query's term groups. *readings* maps a katakana reading to the answers'
    term (built from ``search_readings``); *longest* is its longest reading (the
    caller's cache knows it: counting thousands of readings per query costs more than
    the rest of the analysis)."""
    groups: list[frozenset[str]] = []
    surfaces: list[str] = []
    folded = fold(text)

    def add(words: set[str], surface: str) -> None:
        expanded = set(words)
        for word in words:
            expanded |= synonyms.expand(word)
        group = frozenset(w for w in expanded if w and " " not in w)
        if group and group not in groups:
            groups.append(group)
            surfaces.append(surface)

    for token in tokens(folded):
        add({token.term, token.surface}, token.surface)
    if longest is None:
        longest = max((len(r) for r in readings), default=0)
    for run in _KANA_RUN.findall(folded):
        run_kata = kata(run)
        if run_kata in synonyms._map:
            add({run_kata}, run)
        i = 0
        while i < len(run_kata):
            for j in range(min(len(run_kata), i + longest), i + _MIN_READING - 1, -1):
                piece = run_kata[i:j]
                term = readings.get(piece) or (piece if piece in synonyms._map else None)
                if term:
                    add({term, piece}, run[i:j])
                    i = j
                    break
            else:
                i += 1
    return Query(text=text, groups=tuple(groups), surfaces=tuple(surfaces))


def snippet(text: str, query: Query, *, width: int = 80) -> str:
    """Plain text around the first place the answer text mentions the query."""
    folded = fold(text)
    best = -1
    for word in set(query.surfaces) | set(query.terms):
        word_folded = _fold_word(word)
        at = folded.find(word_folded if len(word_folded) == len(word) else word)
        if at >= 0 and (best < 0 or at < best):
            best = at
    flat = " ".join(text.split())
    if best < 0 or len(folded) != len(text):
        best = max(0, best)
    start = max(0, best - width // 4)
    piece = flat[start : start + width]
    return ("…" if start > 0 else "") + piece + ("…" if start + width < len(flat) else "")
