"""The FAQ search's in-memory term index, one per municipality and process.

What the search looks in changes only when staff publish, edit or withdraw an answer
or change the synonyms, while every keystroke of the contact form searches. So each
process keeps, per municipality, the published answers' terms as postings (term →
answers whose question, keywords or answer text has it), the readings of those terms
(for queries in kana) and the synonyms, built once from the database, and ranks in
Python with set operations.

The index is valid for one :class:`~machi.contact.models.FaqIndexVersion` token. The
FAQ services write a new random token in the same transaction as every change
(:func:`machi.contact.services.faq.faq_index_changed`); a search reads the token (one
indexed single-row query) and builds the index again when it differs, so several
worker processes stay correct without talking to each other. The cache is keyed by
the municipality's lg_code: one municipality's index never answers another's search.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connections

from machi.contact import search
from machi.contact.models import FaqAnswer, FaqIndexVersion, FaqStatus, FaqSynonym
from machi.tenancy.context import current_lg_code, current_tenant_alias

# where a query word appears: the question, the keywords, the answer text
TITLE, KEYWORDS, BODY = 3.0, 2.0, 1.0
MUNICIPALITIES = 32  # indexes kept per process (least recently used dropped)

Postings = dict[str, set[int]]


@dataclass(frozen=True)
class FaqIndex:
    token: str | None
    title: Postings
    keywords: Postings
    body: Postings
    synonyms: search.Synonyms
    readings: dict[str, str]  # katakana reading → the answers' term
    longest: int  # the longest reading
    answers: int  # published answers

    def rank(self, groups: Sequence[frozenset[str]], count: int) -> list[tuple[float, int]]:
        """(score, answer id) of the *count* best published answers that have a query
        word, best first (ties: lower id). Each group (a query word and its alternatives) counts
        once per answer, by the best place it appears in (question 3, keywords 2, answer
        text 1), times 1 + ln(candidates / candidates with the word): a rarer word
        weighs more."""
        placed: list[tuple[set[int], set[int], set[int]]] = []
        candidates: set[int] = set()
        for group in groups:
            in_title = _union(self.title, group)
            in_keywords = _union(self.keywords, group) - in_title
            in_body = _union(self.body, group) - in_title - in_keywords
            placed.append((in_title, in_keywords, in_body))
            candidates |= in_title
            candidates |= in_keywords
            candidates |= in_body
        if not candidates:
            return []
        total = len(candidates)
        scores: dict[int, float] = {}
        get = scores.get
        for in_title, in_keywords, in_body in placed:
            seen = len(in_title) + len(in_keywords) + len(in_body)
            if not seen:
                continue
            weight = 1.0 + math.log(total / seen)
            # In the order of the groups, as one sum per answer.
            for ids, place in ((in_title, TITLE), (in_keywords, KEYWORDS), (in_body, BODY)):
                value = place * weight
                for pk in ids:
                    scores[pk] = get(pk, 0.0) + value
        return _best(scores, count)


def _best(scores: dict[int, float], count: int) -> list[tuple[float, int]]:
    """The *count* best (score rounded to 6 places, id), without rounding and sorting
    thousands: only the answers within 1e-6 of the count-th best raw score can reach
    its rounded score (rounding moves a score by 5e-7 at most)."""
    if len(scores) > count:
        floor = heapq.nlargest(count, scores.values())[-1] - 1e-6
        ranked = [(round(s, 6), pk) for pk, s in scores.items() if s >= floor]
    else:
        ranked = [(round(s, 6), pk) for pk, s in scores.items()]
    ranked.sort(key=lambda item: (-item[0], item[1]))
    return ranked[:count]


def _union(postings: Postings, group: frozenset[str]) -> set[int]:
    found: set[int] = set()
    for term in group:
        ids = postings.get(term)
        if ids:
            found |= ids
    return found


_cache: OrderedDict[str, FaqIndex] = OrderedDict()
_lock = threading.Lock()


def current_token(alias: str) -> str | None:
    """The version token in the municipality's database (None before the first
    change); plain SQL, the ORM's compiling costs more than the lookup."""
    with connections[alias].cursor() as cursor:
        cursor.execute(f"SELECT token FROM {FaqIndexVersion._meta.db_table} WHERE id = 1")  # noqa: S608
        row = cursor.fetchone()
    return row[0] if row else None


def term_index() -> FaqIndex:
    """The index of the municipality in force, built again when its token changed."""
    lg_code = current_lg_code()
    alias = current_tenant_alias()
    token = current_token(alias)  # before the data: a change after it shows next time
    with _lock:
        index = _cache.get(lg_code)
        if index is not None and index.token == token:
            _cache.move_to_end(lg_code)
            return index
    index = _build(token)
    with _lock:
        _cache[lg_code] = index
        _cache.move_to_end(lg_code)
        while len(_cache) > MUNICIPALITIES:
            _cache.popitem(last=False)
    return index


def term_index_forget() -> None:
    """Drop this process's indexes (what a freshly started worker has); the versions in
    the databases stay."""
    with _lock:
        _cache.clear()


def _add(postings: Postings, field: str, pk: int) -> None:
    # Fields are " term term … ": split on the single spaces, as the database's
    # " term " LIKE / trigram match read them.
    for term in field.split(" "):
        if term:
            postings.setdefault(term, set()).add(pk)


def _build(token: str | None) -> FaqIndex:
    title: Postings = {}
    keywords: Postings = {}
    body: Postings = {}
    readings: dict[str, str] = {}
    count = 0
    # In the answers' own order (category, id): the first answer's term wins a reading.
    rows = FaqAnswer.objects.filter(status=FaqStatus.PUBLISHED).values_list(
        "id", "search_title", "search_keywords", "search_body", "search_readings"
    )
    for pk, in_title, in_keywords, in_body, pairs in rows:
        count += 1
        _add(title, in_title, pk)
        _add(keywords, in_keywords, pk)
        _add(body, in_body, pk)
        for pair in pairs.split():
            reading, _sep, term = pair.partition("=")
            readings.setdefault(reading, term)
    groups = list(search.default_synonyms())
    groups += [row.split() for row in FaqSynonym.objects.values_list("words", flat=True)]
    return FaqIndex(
        token=token, title=title, keywords=keywords, body=body,
        synonyms=search.Synonyms(groups), readings=readings,
        longest=max((len(r) for r in readings), default=0), answers=count,
    )  # fmt: skip
