"""Reads of the contact center: the FAQ search and the metrics."""

from __future__ import annotations

import datetime
import math
import statistics
import threading
from collections import OrderedDict
from dataclasses import dataclass

from django.db import connections
from django.db.models import Case, Count, Q, Value, When
from django.utils import timezone

from machi.contact import search
from machi.contact.models import FaqAnswer, FaqCategory, FaqSearch, FaqStatus, FaqSynonym, Ticket
from machi.contact.services.faq import FTS_TABLE
from machi.tenancy.context import current_lg_code, current_tenant_alias

MAX_RESULTS = 20
QUERY_MAX = 200
TITLE, KEYWORDS, BODY = 3.0, 2.0, 1.0

_cache: OrderedDict[tuple, Vocabulary] = OrderedDict()
_lock = threading.Lock()


@dataclass(frozen=True)
class FaqHit:
    answer: FaqAnswer
    score: float
    snippet: str


@dataclass(frozen=True)
class Vocabulary:
    synonyms: search.Synonyms
    readings: dict[str, str]
    longest: int  # the longest reading


def _vocabulary_key() -> tuple:
    """What the vocabulary depends on, in one statement (the ORM's two aggregates cost
    more than the index lookup of a short query)."""
    answers, synonyms = FaqAnswer._meta.db_table, FaqSynonym._meta.db_table
    with connections[current_tenant_alias()].cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {answers} WHERE status = %s), "  # noqa: S608
            f"(SELECT MAX(updated_at) FROM {answers} WHERE status = %s), "
            f"(SELECT COUNT(*) FROM {synonyms}), (SELECT MAX(updated_at) FROM {synonyms})",
            [FaqStatus.PUBLISHED, FaqStatus.PUBLISHED],
        )
        return (current_lg_code(), *cursor.fetchone())


def _vocabulary() -> Vocabulary:
    """The synonyms (default list + the municipality's) and the readings of the
    published answers' terms, cached until an answer or a synonym changes."""
    key = _vocabulary_key()
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    groups = list(search.default_synonyms())
    groups += [row.split() for row in FaqSynonym.objects.values_list("words", flat=True)]
    readings: dict[str, str] = {}
    for text in FaqAnswer.objects.filter(status=FaqStatus.PUBLISHED).values_list(
        "search_readings", flat=True
    ):
        for pair in text.split():
            reading, _sep, term = pair.partition("=")
            readings.setdefault(reading, term)
    longest = max((len(r) for r in readings), default=0)
    value = Vocabulary(search.Synonyms(groups), readings, longest)
    with _lock:
        _cache[key] = value
        while len(_cache) > 32:
            _cache.popitem(last=False)
    return value


CANDIDATES = 300


def _candidates(terms: list[str]) -> list[tuple[int, str, str, str]]:
    """(id, title, keywords, body) terms of published answers sharing a term: on SQLite
    the FTS5 index's best CANDIDATES by bm25 (question, keywords, answer weighted 3, 2,
    1), so that a word found in thousands of answers costs no more than a rare one."""
    connection = connections[current_tenant_alias()]
    if connection.vendor == "sqlite":
        expression = " OR ".join('"' + f" {t} ".replace('"', '""') + '"' for t in terms)
        with connection.cursor() as cursor:
            # bm25 scores every match: only worth it when there are more than CANDIDATES
            # (the ranking below looks at every candidate anyway).
            cursor.execute(
                f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s LIMIT %s",  # noqa: S608
                [expression, CANDIDATES + 1],
            )
            ids = [row[0] for row in cursor.fetchall()]
            if len(ids) > CANDIDATES:
                cursor.execute(
                    f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s "  # noqa: S608
                    f"ORDER BY bm25({FTS_TABLE}, 3.0, 2.0, 1.0) LIMIT %s",
                    [expression, CANDIDATES],
                )
                ids = [row[0] for row in cursor.fetchall()]
            if not ids:
                return []
            # The terms from the answers' own table (reading them back from the FTS table
            # costs more than the index lookup), in plain SQL: the ORM's compiling of a
            # 300-id IN costs as much as the read.
            cursor.execute(
                "SELECT id, search_title, search_keywords, search_body "  # noqa: S608
                f"FROM {FaqAnswer._meta.db_table} WHERE status = %s "
                f"AND id IN ({', '.join(['%s'] * len(ids))})",
                [FaqStatus.PUBLISHED, *ids],
            )
            return list(cursor.fetchall())
    # PostgreSQL (pg_trgm GIN indexes answer the LIKEs): the best CANDIDATES by where a
    # term appears (question 3, keywords 2, answer 1), so that thousands of matches are
    # not all sent over and ranked.
    fields = {"title": Q(), "keywords": Q(), "body": Q()}
    for t in terms:
        for name in fields:
            fields[name] |= Q(**{f"search_{name}__contains": f" {t} "})
    place = sum(
        (Case(When(q, then=Value(w)), default=Value(0.0)) for q, w in
         zip(fields.values(), (TITLE, KEYWORDS, BODY), strict=True)),
        start=Value(0.0),
    )  # fmt: skip
    return list(
        FaqAnswer.objects.filter(
            fields["title"] | fields["keywords"] | fields["body"], status=FaqStatus.PUBLISHED
        )
        .annotate(place=place)
        .order_by("-place", "id")
        .values_list("id", "search_title", "search_keywords", "search_body")[:CANDIDATES]
    )


def faq_search(*, query: str, limit: int = 5) -> list[FaqHit]:
    """Published answers for a question in everyday Japanese, best first, each with a
    snippet. Every query word counts once, by where it (or a synonym, or its reading)
    appears: the question (3), the keywords (2), the answer text (1), times the word's
    rarity among the candidates; ties go to the answer found helpful more often."""
    query = (query or "").strip()[:QUERY_MAX]
    limit = max(1, min(limit, MAX_RESULTS))
    if not query:
        return []
    vocabulary = _vocabulary()
    analysed = search.analyse_query(
        query, synonyms=vocabulary.synonyms, readings=vocabulary.readings,
        longest=vocabulary.longest,
    )  # fmt: skip
    if not analysed.groups:
        return []
    rows = _candidates(sorted(analysed.terms))
    # Where each query word appears in each candidate, then a rarer word weighs more
    # (1 + ln(candidates / candidates with the word)): 「コンビニで住民票」 is about
    # コンビニ交付, not about any of the answers that mention 住民票.
    # Fields are " term term … ": a term padded with spaces is found as a whole term.
    patterns = [tuple(f" {t} " for t in group) for group in analysed.groups]
    matrix = []
    seen = [0] * len(analysed.groups)
    for pk, title, keywords, body in rows:
        places = []
        for i, group in enumerate(patterns):
            if any(p in title for p in group):
                best = TITLE
            elif any(p in keywords for p in group):
                best = KEYWORDS
            elif any(p in body for p in group):
                best = BODY
            else:
                best = 0.0
            places.append(best)
            seen[i] += best > 0
        matrix.append((pk, places))
    weights = [1.0 + math.log(len(rows) / n) if n else 0.0 for n in seen]
    scored = []
    for pk, places in matrix:
        score = sum(p * w for p, w in zip(places, weights, strict=True))
        if score:
            scored.append((round(score, 6), pk))
    scored.sort(key=lambda item: (-item[0], item[1]))
    top = scored[: limit * 2]
    answers = (
        FaqAnswer.objects.select_related("category")
        .defer("search_title", "search_keywords", "search_body", "search_readings")
        .in_bulk([pk for _s, pk in top])
    )
    ranked = sorted(
        (
            (score, answers[pk].helped_count - answers[pk].not_helped_count, pk)
            for score, pk in top
            if pk in answers
        ),
        key=lambda item: (-item[0], -item[1], item[2]),
    )[:limit]
    return [
        FaqHit(answers[pk], score, search.snippet(answers[pk].answer, analysed))
        for score, _helpful, pk in ranked
    ]


def _quantile(values: list[int], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return float(values[0])
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


# The figures of one set of tickets (a channel, a group, all of them).
def _figures() -> dict:
    return {"tickets": 0, "resolved": 0, "fcr": 0, "first": [], "resolution": [],
            "first_breaches": 0, "resolution_breaches": 0}  # fmt: skip


def _summary(e: dict) -> dict:
    return {
        "tickets": e["tickets"], "resolved": e["resolved"], "first_contact_resolutions": e["fcr"],
        "first_contact_resolution_rate": e["fcr"] / e["resolved"] if e["resolved"] else None,
        "first_response_minutes": {"median": _quantile(e["first"], 0.5),
                                   "p90": _quantile(e["first"], 0.9), "count": len(e["first"])},
        "resolution_minutes": {"median": _quantile(e["resolution"], 0.5),
                               "p90": _quantile(e["resolution"], 0.9),
                               "count": len(e["resolution"])},
        "first_response_breaches": e["first_breaches"],
        "resolution_breaches": e["resolution_breaches"],
        "breaches": e["first_breaches"] + e["resolution_breaches"],
    }  # fmt: skip


def _week_of(moment: datetime.datetime) -> datetime.date:
    day = timezone.localtime(moment).date()
    return day - datetime.timedelta(days=day.weekday())


def contact_metrics(*, since: datetime.datetime, until: datetime.datetime) -> dict:
    """Tickets created in [since, until) (merged duplicates left out) and the residents'
    FAQ searches of the same period, in a constant number of queries:

    * per channel, per group (担当課) and in total: first-contact resolution rate
      (first-contact resolutions ÷ resolved tickets), first response and resolution
      times in business minutes (median, p90, over the tickets that have them), SLA
      breaches (first response, resolution);
    * tickets per topic (the FAQ category) per week (weeks start on Monday, JST);
    * FAQ deflection: of the residents' searches that showed at least one answer, the
      share no ticket followed (agents' searches do not count; searches with no answer
      are counted apart, as questions the FAQ does not answer yet).
    """
    tickets = Ticket.objects.filter(
        created_at__gte=since, created_at__lt=until, merged_into__isnull=True
    )
    channels: dict[str, dict] = {}
    groups: dict[str, dict] = {}
    group_names: dict[str, str] = {}
    total = _figures()
    per_topic: dict[str, dict[datetime.date, int]] = {}
    rows = tickets.values_list(
        "channel", "group", "group_name", "topic", "created_at", "first_contact_resolution",
        "first_response_business_minutes", "resolution_business_minutes",
        "sla_first_response_breached_at", "sla_resolution_breached_at",
    )  # fmt: skip
    for channel, group, group_name, topic, created, fcr, first, resolution, b1, b2 in rows:
        group_names.setdefault(group, group_name)
        for entry in (
            channels.setdefault(channel, _figures()), groups.setdefault(group, _figures()), total,
        ):  # fmt: skip
            entry["tickets"] += 1
            entry["resolved"] += fcr is not None
            entry["fcr"] += bool(fcr)
            if first is not None:
                entry["first"].append(first)
            if resolution is not None:
                entry["resolution"].append(resolution)
            entry["first_breaches"] += b1 is not None
            entry["resolution_breaches"] += b2 is not None
        week = _week_of(created)
        counts = per_topic.setdefault(topic, {})
        counts[week] = counts.get(week, 0) + 1
    weeks = []
    week = _week_of(since)
    last = _week_of(until - datetime.timedelta(microseconds=1))
    while week <= last:
        weeks.append(week)
        week += datetime.timedelta(days=7)
    names = dict(FaqCategory.objects.values_list("code", "name")) if per_topic else {}
    topics = [
        {"code": code, "name": names.get(code, code), "weeks": [counts.get(w, 0) for w in weeks],
         "tickets": sum(counts.values())}
        for code, counts in per_topic.items()
    ]  # fmt: skip
    topics.sort(key=lambda t: (t["code"] == "", -t["tickets"], t["code"]))
    searches = FaqSearch.objects.filter(
        created_at__gte=since, created_at__lt=until, source="resident"
    ).aggregate(
        total=Count("id"),
        answered=Count("id", filter=Q(result_count__gt=0)),
        deflected=Count("id", filter=Q(result_count__gt=0, ticket__isnull=True)),
    )
    return {
        "channels": {key: _summary(e) for key, e in sorted(channels.items())},
        "groups": {
            key: {"name": group_names[key], **_summary(e)} for key, e in sorted(groups.items())
        },
        "total": _summary(total),
        "weeks": weeks,
        "topics": topics,
        "faq_searches": searches["total"],
        "faq_searches_answered": searches["answered"],
        "faq_searches_unanswered": searches["total"] - searches["answered"],
        "faq_deflected": searches["deflected"],
        "faq_deflection_rate": (
            searches["deflected"] / searches["answered"] if searches["answered"] else None
        ),
    }
