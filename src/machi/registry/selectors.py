"""Reads on the registry: search, a resident with household and history, the My Number.

Every read of a resident's personal data that a person sees goes through a function
here that writes an audit entry (``resident_get``, ``household_get``,
``resident_reveal_my_number``). Search results are audited as one entry per search.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from machi.audit.services import Terminal, audit_append
from machi.japanese import DateParseError, JapaneseDate, parse_date
from machi.registry.keys import KANA, LATIN, compact, query_key
from machi.registry.models import Household, Resident, ResidentKey
from machi.registry.mynumber import my_number_open

MAX_PAGE = 200
COUNT_CAP = 1000
_YEAR_MONTH = re.compile(r"^(\d{4})(?:[-/.](\d{1,2}))?$")


@dataclass(frozen=True)
class Hit:
    resident: Resident
    match: str  # exact | variant | kana | latin | prefix | number | birth | address


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    total: int
    offset: int
    limit: int
    more: bool = False  # total is a lower bound: counting stopped at COUNT_CAP

    @property
    def total_label(self) -> str:
        return f"{self.total}+" if self.more else str(self.total)


def _capped_count(queryset: QuerySet) -> tuple[int, bool]:
    """Count at most COUNT_CAP rows: a surname shared by 20,000 residents costs no more
    to count than one shared by 1,000 (the screen says "1000+" and asks for more terms)."""
    n = queryset[: COUNT_CAP + 1].count()
    return min(n, COUNT_CAP), n > COUNT_CAP


class SearchError(ValueError):
    """The search terms are malformed (e.g. an impossible date); the message says why."""


def birth_range(text: str) -> tuple[datetime.date, datetime.date]:
    """The approximate-date range a typed birth date means (西暦 or 和暦, may be partial)."""
    text = text.strip()
    # A search may name just a year or a month: 1971, 1971-03, 1971/3.
    if match := _YEAR_MONTH.match(unicodedata.normalize("NFKC", text)):
        year, month = match.groups()
        text = f"{year}年{month}月" if month else f"{year}年"
    try:
        date = parse_date(text)
    except DateParseError as error:
        raise SearchError(str(error)) from error
    return _range_of(date)


def _range_of(date: JapaneseDate) -> tuple[datetime.date, datetime.date]:
    if date.approx is None:
        raise SearchError(f"生年月日「{date.text}」では検索できません（年が不詳）。")
    start = date.approx
    if date.day is not None and date.month is not None:
        return start, start
    if date.month is not None:
        following = datetime.date(start.year + (start.month == 12), start.month % 12 + 1, 1)
        return start, following - datetime.timedelta(days=1)
    return datetime.date(start.year, 1, 1), datetime.date(start.year, 12, 31)


def _with_household(residents: QuerySet[Resident]) -> QuerySet[Resident]:
    return residents.select_related("household")


def resident_search(
    *,
    query: str = "",
    birth: str = "",
    postal_code: str = "",
    machiaza: str = "",
    banchi: str = "",
    number: str = "",
    statuses: tuple[str, ...] = (),
    limit: int = 50,
    offset: int = 0,
) -> SearchResult:
    """Find residents. A name query matches the current name, former surnames and
    aliases, whole or surname / given name alone, by variant-folded kanji or by fuzzy
    kana reading; exact spellings come first. ``number`` is an atena number, household
    number or resident code. Filters combine with AND."""
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, offset)
    residents = Resident.objects.all()
    if statuses:
        residents = residents.filter(status__in=statuses)
    if birth:
        start, end = birth_range(birth)
        residents = residents.filter(birth_date_approx__range=(start, end))
    if postal_code:
        residents = residents.filter(postal_code=postal_code.replace("-", "").strip())
    if machiaza:
        residents = residents.filter(machiaza__startswith=machiaza.strip())
    if banchi:
        residents = residents.filter(banchi__startswith=banchi.strip())
    if number:
        digits = compact(number)
        residents = residents.filter(
            Q(atena_number=digits) | Q(household__household_number=digits) | Q(resident_code=digits)
        )
    if query.strip():
        return _name_search(residents, query, limit, offset)
    if not (birth or postal_code or machiaza or banchi or number):
        return SearchResult([], 0, offset, limit)
    kind = "number" if number else "birth" if birth else "address"
    total = residents.count()
    page = _with_household(residents.order_by("atena_number"))[offset : offset + limit]
    return SearchResult([Hit(r, kind) for r in page], total, offset, limit)


def _name_search(
    residents: QuerySet[Resident], query: str, limit: int, offset: int
) -> SearchResult:
    key = query_key(query)
    raw = compact(query)
    fuzzy_kind = "kana" if key.startswith(KANA) else "latin" if key.startswith(LATIN) else "variant"
    filtered = residents.query.where
    keys = ResidentKey.objects.filter(key=key)
    if filtered:
        keys = keys.filter(resident__in=residents)
    exact = keys.filter(raw=raw)
    fuzzy = keys.exclude(raw=raw)
    n_exact, exact_more = _capped_count(exact)
    n_fuzzy, fuzzy_more = _capped_count(fuzzy)
    match_kind = {}
    ids: list[int] = []
    if offset < n_exact:
        chunk = list(
            exact.order_by("resident_id").values_list("resident_id", flat=True)[
                offset : offset + limit
            ]
        )
        ids += chunk
        match_kind.update(dict.fromkeys(chunk, "exact"))
    if len(ids) < limit and n_fuzzy:
        start = max(0, offset - n_exact)
        chunk = list(
            fuzzy.order_by("raw", "resident_id").values_list("resident_id", flat=True)[
                start : start + limit - len(ids)
            ]
        )
        ids += chunk
        match_kind.update(dict.fromkeys(chunk, fuzzy_kind))
    total = n_exact + n_fuzzy
    if total == 0 and len(key) > 3:
        return _prefix_search(residents, key, limit, offset)
    by_id = _with_household(Resident.objects.filter(pk__in=ids)).in_bulk()
    return SearchResult(
        [Hit(by_id[i], match_kind[i]) for i in ids if i in by_id],
        total,
        offset,
        limit,
        more=exact_more or fuzzy_more,
    )


def _prefix_search(
    residents: QuerySet[Resident], key: str, limit: int, offset: int
) -> SearchResult:
    """Nothing has this exact key: names that start with it (typing in progress)."""
    keys = ResidentKey.objects.filter(key__gte=key, key__lt=key + "\U0010ffff")
    if residents.query.where:
        keys = keys.filter(resident__in=residents)
    resident_ids = keys.values_list("resident_id", flat=True).distinct().order_by("resident_id")
    total, more = _capped_count(resident_ids)
    ids = list(resident_ids[offset : offset + limit])
    by_id = _with_household(Resident.objects.filter(pk__in=ids)).in_bulk()
    hits = [Hit(by_id[i], "prefix") for i in ids if i in by_id]
    return SearchResult(hits, total, offset, limit, more=more)


def search_audit(
    *, actor: Any, terminal: Terminal | None, function: str, terms: dict, hits: int
) -> None:
    """One audit entry per search: who searched for what (the terms, not the results)."""
    audit_append(
        action="resident.searched",
        actor=actor,
        object_type="resident",
        function=function,
        terminal=terminal,
        detail={"terms": {k: v for k, v in terms.items() if v}, "hits": hits},
    )


def resident_get(
    *, atena_number: str, actor: Any, terminal: Terminal | None = None, function: str = ""
) -> Resident | None:
    """A resident record for display; the read is audited."""
    resident = _with_household(Resident.objects.filter(atena_number=atena_number)).first()
    if resident is not None:
        audit_append(
            action="resident.viewed",
            actor=actor,
            object_type="resident",
            object_id=resident.atena_number,
            function=function,
            terminal=terminal,
        )
    return resident


def household_members(*, household: Household) -> QuerySet[Resident]:
    return household.members.order_by("status", "id")


def resident_history(*, resident: Resident) -> QuerySet:
    return resident.history.order_by("-id")


def resident_reveal_my_number(
    *,
    resident: Resident,
    actor: Any,
    purpose: str,
    terminal: Terminal | None = None,
    function: str = "",
) -> str:
    """The resident's My Number in clear. Only for staff allowed to see it, with a
    purpose; the reveal is audited (who, whom, why, from where)."""
    from django.core.exceptions import PermissionDenied

    if not purpose.strip():
        raise PermissionDenied("個人番号を表示する目的を入力してください。")
    if not staff_may_reveal_my_number(actor):
        raise PermissionDenied("個人番号を表示する権限がありません。")
    number = my_number_open(resident.my_number)
    audit_append(
        action="resident.my_number_revealed",
        actor=actor,
        object_type="resident",
        object_id=resident.atena_number,
        function=function,
        terminal=terminal,
        purpose=purpose.strip()[:300],
        my_number_shown=True,
    )
    return number


def staff_may_reveal_my_number(staff: Any) -> bool:
    return any(m.can_reveal_my_number for m in staff.memberships.all())


def household_get(
    *, household_number: str, actor: Any, terminal: Terminal | None = None, function: str = ""
) -> Household | None:
    """A household for display (its members through ``household_members``); audited."""
    household = Household.objects.filter(household_number=household_number).first()
    if household is not None:
        audit_append(
            action="household.viewed",
            actor=actor,
            object_type="household",
            object_id=household.household_number,
            function=function,
            terminal=terminal,
        )
    return household


def resident_for_change(*, atena_number: str) -> Resident | None:
    """The resident a change or My Number form names, loaded for a registry service or
    ``resident_reveal_my_number``, which audit what they do (not shown as such)."""
    return _with_household(Resident.objects.filter(atena_number=atena_number)).first()


RECORDS_DEPARTMENT = "shimin"


def staff_may_change_records(staff: Any) -> bool:
    """Only the resident-records department (市民課) changes records: department staff
    or supervisors of ``shimin``; counter clerks and other departments only view."""
    from machi.accounts.roles import Role

    if not getattr(staff, "is_authenticated", False):
        return False
    if getattr(staff, "is_platform_operator", False):
        return False
    cached = getattr(staff, "_machi_may_change_records", None)
    if cached is None:
        cached = staff.memberships.filter(
            department__code=RECORDS_DEPARTMENT,
            role__in=(Role.DEPARTMENT_STAFF, Role.SUPERVISOR),
        ).exists()
        staff._machi_may_change_records = cached
    return cached
