"""Residents API: ``GET /api/v1/{lg_code}/residents`` (search) and
``GET /api/v1/{lg_code}/residents/{atena_number}`` (one record).

For API clients with the ``residents:read`` scope and for signed-in staff with a
working role (as on the staff screens). Every call is audited with the caller: a
search as one ``resident.searched`` entry (the terms, not the results), a record as
``resident.viewed``.

The My Number: the ``my_number`` key is present only for an API client holding
``residents:read:my_number`` (null when none is recorded); for everyone else the key
is absent, not null. Each number returned is decrypted here and audited as a reveal
(``resident.my_number_revealed`` with ``my_number_shown``), one entry per resident.
Staff reveal a My Number on the resident screen, with a purpose, not through the API.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status

from machi.accounts.roles import Role
from machi.apiclients.auth import ApiClientBearer, StaffSession, is_api_client
from machi.apiclients.models import Scope
from machi.apierrors import ErrorOut
from machi.audit.services import AuditRecord, Terminal, audit_append_many
from machi.registry import selectors
from machi.registry.models import Resident
from machi.registry.models import Status as ResidentStatus
from machi.registry.mynumber import my_number_open

router = Router(tags=["registry"])

WORKING_ROLES = (Role.COUNTER_CLERK, Role.DEPARTMENT_STAFF, Role.SUPERVISOR)
RESIDENTS_AUTH = [ApiClientBearer(Scope.RESIDENTS_READ), StaffSession(*WORKING_ROLES)]
MY_NUMBER_PURPOSE = "API: residents:read:my_number"
# More residents than any municipality has: a deeper offset is a mistake, and past
# 2**63 the databases cannot even compare it.
MAX_OFFSET = 10_000_000
# Search terms are text a person types: no control characters (PostgreSQL refuses NUL).
TEXT = r"^[^\x00-\x1f\x7f]*$"
# As on the staff screens and in migrated data: half-width letters, digits and hyphens.
ATENA_NUMBER = r"^[0-9A-Za-z-]{1,20}$"


class DateOut(Schema):
    text: str = Field(description="as written in the register (和暦, 不詳 …)")
    approx: str | None = Field(description="the calendar date it stands for (ISO), if any")


class HitOut(Schema):
    atena_number: str
    name: str
    kana: str
    birth_date: DateOut | None
    address: str
    status: str = Field(description="1 住民, 2 転出, 3 死亡, 9 消除")
    match: str = Field(description="exact | variant | kana | latin | prefix | number | birth")
    my_number: str | None = Field(
        None, description="only with scope residents:read:my_number (key absent otherwise)"
    )


class SearchOut(Schema):
    results: list[HitOut]
    total: int
    total_is_lower_bound: bool = Field(description="counting stopped at 1000 per group")
    offset: int
    limit: int


class SearchParams(Schema):
    query: str = Field(
        "", max_length=200, pattern=TEXT, description="name in kanji or kana, whole or in part"
    )
    birth: str = Field(
        "", max_length=50, pattern=TEXT, description="date of birth, 西暦 or 和暦, may be partial"
    )
    postal_code: str = Field("", max_length=10, pattern=TEXT)
    number: str = Field(
        "",
        max_length=30,
        pattern=TEXT,
        description="atena number, household number or resident code",
    )
    status: str = Field("all", pattern="^(all|resident)$")
    limit: int = Field(50, ge=1, le=selectors.MAX_PAGE)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class MemberOut(Schema):
    atena_number: str
    relationship: str
    status: str


class HistoryOut(Schema):
    change: str
    effective_on: DateOut | None
    filed_on: str | None
    filing_kind: str
    recorded_at: str
    fields: list[str] = Field(description="the items that changed (names only)")


class AddressOut(Schema):
    postal_code: str
    prefecture: str
    city: str
    machiaza: str
    banchi: str
    katagaki: str
    text: str


class ResidentOut(Schema):
    atena_number: str
    household_number: str
    resident_type: str = Field(description="1 日本人, 2 外国人")
    status: str = Field(description="1 住民, 2 転出, 3 死亡, 9 消除")
    name: str
    kana: str
    kana_status: str
    former_surname: str
    former_surname_kana: str
    alias: str
    alias_kana: str
    name_alphabet: str
    sex: str = Field(description="1 男, 2 女")
    birth_date: DateOut | None
    relationship: str
    address: AddressOut
    became_resident_on: DateOut | None = Field(description="住民となった年月日")
    settled_on: DateOut | None = Field(description="住所を定めた年月日")
    previous_address: str
    destination_address: str
    nationality: str
    residence_status: str
    resident_code: str
    kokuho: bool
    kouki: bool
    kaigo: bool
    pension_category: str
    child_allowance: bool
    household_members: list[MemberOut]
    history: list[HistoryOut]
    my_number: str | None = Field(
        None, description="only with scope residents:read:my_number (key absent otherwise)"
    )


def _date(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"text": value.text, "approx": value.approx.isoformat() if value.approx else None}


def _may_read_my_number(actor: Any) -> bool:
    return is_api_client(actor) and actor.has_scope(Scope.RESIDENTS_READ_MY_NUMBER)


def _reveal(
    residents: list[Resident], actor: Any, terminal: Terminal, function: str
) -> dict[int, str | None]:
    """Decrypt the My Numbers of ``residents`` for a client holding the scope; one audit
    entry per number shown, appended together."""
    numbers: dict[int, str | None] = {}
    records = []
    for resident in residents:
        if not resident.my_number:
            numbers[resident.pk] = None
            continue
        numbers[resident.pk] = my_number_open(resident.my_number)
        records.append(
            AuditRecord(
                action="resident.my_number_revealed",
                actor=actor,
                object_type="resident",
                object_id=resident.atena_number,
                function=function,
                terminal=terminal,
                purpose=MY_NUMBER_PURPOSE,
                my_number_shown=True,
            )
        )
    audit_append_many(records=records)
    return numbers


@router.get(
    "/{lg_code}/residents",
    auth=RESIDENTS_AUTH,
    response={200: SearchOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut},
    exclude_unset=True,
    summary="住民の検索",
)
def residents_search(request: HttpRequest, lg_code: str, params: Query[SearchParams]):
    """Search residents as the staff screen does: by name (variant kanji, fuzzy kana,
    former surnames, aliases; exact spellings first), date of birth, postal code or
    number; filters combine with AND. Paged with ``offset``/``limit`` (at most 200)."""
    actor = request.auth
    terminal = Terminal.from_request(request)
    try:
        result = selectors.resident_search(
            query=params.query,
            birth=params.birth,
            postal_code=params.postal_code,
            number=params.number,
            statuses=(ResidentStatus.RESIDENT,) if params.status == "resident" else (),
            limit=params.limit,
            offset=params.offset,
        )
    except selectors.SearchError as error:
        return Status(400, {"detail": str(error)})
    selectors.search_audit(
        actor=actor,
        terminal=terminal,
        function="api:residents.search",
        terms={
            "query": params.query,
            "birth": params.birth,
            "postal_code": params.postal_code,
            "number": params.number,
            "status": params.status,
        },
        hits=result.total,
    )
    numbers = None
    if _may_read_my_number(actor):
        numbers = _reveal(
            [hit.resident for hit in result.hits], actor, terminal, "api:residents.search"
        )
    results = []
    for hit in result.hits:
        resident = hit.resident
        row = {
            "atena_number": resident.atena_number,
            "name": resident.name,
            "kana": resident.kana,
            "birth_date": _date(resident.birth_date),
            "address": resident.address,
            "status": resident.status,
            "match": hit.match,
        }
        if numbers is not None:
            row["my_number"] = numbers[resident.pk]
        results.append(row)
    return {
        "results": results,
        "total": result.total,
        "total_is_lower_bound": result.more,
        "offset": result.offset,
        "limit": result.limit,
    }


@router.get(
    "/{lg_code}/residents/{atena_number}",
    auth=RESIDENTS_AUTH,
    response={200: ResidentOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    exclude_unset=True,
    summary="住民記録の照会",
)
def resident_detail(
    request: HttpRequest,
    lg_code: str,
    atena_number: str = Path(..., pattern=ATENA_NUMBER, description="宛名番号"),
):
    """The current record, the household's members (atena numbers) and a summary of the
    history (kinds of change, dates, which items changed — no old values)."""
    actor = request.auth
    terminal = Terminal.from_request(request)
    resident = selectors.resident_get(
        atena_number=atena_number, actor=actor, terminal=terminal, function="api:residents.get"
    )
    if resident is None:
        # A miss is audited too: which numbers a caller tried is evidence as well.
        audit_append_many(
            records=[
                AuditRecord(
                    action="resident.not_found",
                    actor=actor,
                    object_type="resident",
                    object_id=atena_number[:100],
                    function="api:residents.get",
                    terminal=terminal,
                )
            ]
        )
        return Status(404, {"detail": f"宛名番号 {atena_number} の住民は登録されていません。"})
    members = selectors.household_members(household=resident.household).values_list(
        "atena_number", "relationship", "status"
    )
    history = selectors.resident_history(resident=resident)
    body: dict[str, Any] = {
        "atena_number": resident.atena_number,
        "household_number": resident.household.household_number,
        "resident_type": resident.resident_type,
        "status": resident.status,
        "name": resident.name,
        "kana": resident.kana,
        "kana_status": resident.kana_status,
        "former_surname": resident.former_surname,
        "former_surname_kana": resident.former_surname_kana,
        "alias": resident.alias,
        "alias_kana": resident.alias_kana,
        "name_alphabet": resident.name_alphabet,
        "sex": resident.sex,
        "birth_date": _date(resident.birth_date),
        "relationship": resident.relationship,
        "address": {
            "postal_code": resident.postal_code,
            "prefecture": resident.prefecture,
            "city": resident.city,
            "machiaza": resident.machiaza,
            "banchi": resident.banchi,
            "katagaki": resident.katagaki,
            "text": resident.address,
        },
        "became_resident_on": _date(resident.became_resident_on),
        "settled_on": _date(resident.settled_on),
        "previous_address": resident.previous_address,
        "destination_address": resident.destination_address,
        "nationality": resident.nationality,
        "residence_status": resident.residence_status,
        "resident_code": resident.resident_code,
        "kokuho": resident.kokuho,
        "kouki": resident.kouki,
        "kaigo": resident.kaigo,
        "pension_category": resident.pension_category,
        "child_allowance": resident.child_allowance,
        "household_members": [
            {"atena_number": a, "relationship": r, "status": s}
            for a, r, s in members
            if a != resident.atena_number
        ],
        "history": [
            {
                "change": entry.change,
                "effective_on": _date(entry.effective_on),
                "filed_on": entry.filed_on.isoformat() if entry.filed_on else None,
                "filing_kind": entry.filing_kind,
                "recorded_at": entry.recorded_at.isoformat(),
                "fields": sorted(entry.changes or {}),
            }
            for entry in history
        ],
    }
    if _may_read_my_number(actor):
        body["my_number"] = _reveal([resident], actor, terminal, "api:residents.get")[resident.pk]
    return body
