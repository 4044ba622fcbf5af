"""Search keys of a resident's names (pure Python over machi.japanese).

Every key is prefixed by its alphabet so kanji, kana and Latin keys never meet:
``K:`` kanji key (variant-folded), ``N:`` kana key (fuzzy reading), ``A:`` Latin.
``raw`` is the text the key came from with spaces removed: a query equal to it is
an exact match, anything else found through the key is a fuzzy one.
"""

from __future__ import annotations

import re
import unicodedata

from machi.japanese import kana_key, kanji_key

KANJI, KANA, LATIN = "K:", "N:", "A:"

_SPACES = re.compile(r"[\s\u200b\ufeff]+")
_KANA_ONLY = re.compile(r"^[\u3041-\u309f\u30a0-\u30ff\uff66-\uff9f\u31f0-\u31ffー・＝=\-－]+$")
_LATIN_ONLY = re.compile(r"^[A-Za-zＡ-Ｚａ-ｚ'’.\-]+$")


def split_name(name: str) -> tuple[str, str]:
    """(surname, given name) split at the first space of any width; given may be ''."""
    parts = _SPACES.split(name.strip(), maxsplit=1)
    return (parts[0], parts[1] if len(parts) > 1 else "")


def compact(text: str) -> str:
    return _SPACES.sub("", text)


def _latin_key(text: str) -> str:
    return unicodedata.normalize("NFKC", compact(text)).casefold()


def query_kind(query: str) -> str:
    """'kana', 'latin' or 'kanji': which keys a typed query is compared with."""
    text = compact(query)
    if _KANA_ONLY.match(text):
        return "kana"
    if _LATIN_ONLY.match(text):
        return "latin"
    return "kanji"


def query_key(query: str) -> str:
    kind = query_kind(query)
    if kind == "kana":
        return KANA + kana_key(query)
    if kind == "latin":
        return LATIN + _latin_key(query)
    return KANJI + kanji_key(query)


def resident_keys(
    *,
    name: str,
    kana: str = "",
    former_surname: str = "",
    former_surname_kana: str = "",
    alias: str = "",
    alias_kana: str = "",
    name_alphabet: str = "",
) -> dict[str, str]:
    """Every search key of a resident → the text (spaces removed) it was derived from."""
    keys: dict[str, str] = {}

    def add(prefix: str, keyer, text: str) -> None:
        text = text.strip()
        if not text:
            return
        key = keyer(text)
        if key:
            keys.setdefault(prefix + key, compact(text))

    def add_name(kanji_text: str, kana_text: str) -> None:
        surname, given = split_name(kanji_text)
        for part in (kanji_text, surname, given):
            add(KANJI, kanji_key, part)
        kana_surname, kana_given = split_name(kana_text)
        for part in (kana_text, kana_surname, kana_given):
            add(KANA, kana_key, part)
        # A name written only in kana (some foreign residents) is also found by reading.
        if kanji_text and query_kind(kanji_text) == "kana":
            for part in (kanji_text, surname, given):
                add(KANA, kana_key, part)

    add_name(name, kana)
    _, given = split_name(name)
    _, kana_given = split_name(kana)
    if former_surname:
        add_name(f"{former_surname} {given}".strip(), f"{former_surname_kana} {kana_given}".strip())
    if alias:
        add_name(alias, alias_kana)
    if name_alphabet:
        for part in (name_alphabet, *name_alphabet.split()):
            add(LATIN, _latin_key, part)
    return keys
