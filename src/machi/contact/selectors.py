"""Reads of the contact center: the FAQ search and the metrics."""

from __future__ import annotations

import datetime
import statistics
from dataclasses import dataclass

from django.db import connections
from django.db.models import Count, Q
from django.utils import timezone

from machi.contact import faq_index, search
from machi.contact.models import FaqAnswer, FaqCategory, FaqSearch, FaqStatus, Ticket
from machi.tenancy.context import current_tenant_alias

MAX_RESULTS = 20
QUERY_MAX = 200
TITLE, KEYWORDS, BODY = faq_index.TITLE, faq_index.KEYWORDS, faq_index.BODY


@dataclass(frozen=True)
class FaqHit:
    answer: FaqAnswer
    score: float
    snippet: str


# What a hit shows (question, answer text, category, feedback counts), not the terms.
_HIT_FIELDS = ("id", "category_id", "question", "answer", "keywords", "department", "status",
               "helped_count", "not_helped_count")  # fmt: skip
_CATEGORY_FIELDS = ("id", "code", "name", "order")


def _answers(pks: list[int]) -> dict[int, FaqAnswer]:
    """The published answers *pks* with their categories, in one plain query (the
    ORM's compiling of a select_related costs more than the read)."""
    if not pks:
        return {}
    connection = connections[current_tenant_alias()]
    quote = connection.ops.quote_name
    columns = [f"a.{quote(f)}" for f in _HIT_FIELDS] + [f"c.{quote(f)}" for f in _CATEGORY_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM {FaqAnswer._meta.db_table} a "  # noqa: S608
            f"JOIN {FaqCategory._meta.db_table} c ON c.id = a.category_id "
            # by the primary key alone (with the status too, SQLite's planner takes the
            # status index and reads every published answer): the status is checked below
            f"WHERE a.id IN ({', '.join(['%s'] * len(pks))})",
            pks,
        )
        rows = cursor.fetchall()
    cached = FaqAnswer._meta.get_field("category")
    answers = {}
    split = len(_HIT_FIELDS)
    status = _HIT_FIELDS.index("status")
    for row in rows:
        if row[status] != FaqStatus.PUBLISHED:
            continue
        answer = FaqAnswer.from_db(connection.alias, _HIT_FIELDS, row[:split])
        cached.set_cached_value(
            answer, FaqCategory.from_db(connection.alias, _CATEGORY_FIELDS, row[split:])
        )
        answers[answer.pk] = answer
    return answers


def faq_search(*, query: str, limit: int = 5) -> list[FaqHit]:
    """Published answers for a question in everyday Japanese, best first, each with a
    snippet. Every query word counts once, by where it (or a synonym, or its reading)
    appears: the question (3), the keywords (2), the answer text (1), times the word's
    rarity among the answers that have a query word; ties go to the answer found
    helpful more often.

    The terms are looked up in the municipality's in-memory index
    (:mod:`machi.contact.faq_index`): two queries, the index's version and the hits."""
    query = (query or "").strip()[:QUERY_MAX]
    limit = max(1, min(limit, MAX_RESULTS))
    if not query:
        return []
    index = faq_index.term_index()
    analysed = search.analyse_query(
        query, synonyms=index.synonyms, readings=index.readings, longest=index.longest
    )
    if not analysed.groups:
        return []
    # 「コンビニで住民票」 is about コンビニ交付, not about any of the answers that mention
    # 住民票: a rarer word weighs more.
    top = index.rank(analysed.groups, limit * 2)
    answers = _answers([pk for _s, pk in top])
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
