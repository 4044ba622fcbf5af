"""Reads on requests. Public reads never touch RequestReporter and skip hidden or
non-public requests."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from machi.audit.services import Terminal, audit_append
from machi.requests.models import (
    OPEN_STATUSES,
    Category,
    CategoryAttribute,
    Request,
    RequestReporter,
    RequestUpdate,
    ResponseTemplate,
    UpdateKind,
)


def category_list_active() -> QuerySet[Category]:
    return Category.objects.filter(is_active=True).prefetch_related("attributes")


def category_codes() -> list[str]:
    return list(Category.objects.values_list("code", flat=True))


def category_get_active(*, code: str) -> Category | None:
    return (
        Category.objects.filter(code=code, is_active=True)
        .prefetch_related(Prefetch("attributes", CategoryAttribute.objects.order_by("order", "id")))
        .first()
    )


def catalogue_changed_at() -> datetime.datetime | None:
    """When the areas last changed (the catalogue itself carries no timestamp)."""
    from machi.requests.models import Area

    return Area.objects.aggregate(at=Max("updated_at"))["at"]


# What Open311 shows of a request: read as plain rows (a 1,000-request page built as
# model instances with their categories and answers took most of its time).
PUBLIC_ROW_FIELDS = (
    "id", "status", "category__name", "category__code", "description", "department_name",
    "requested_at", "updated_at", "expected_at", "address", "lat", "long", "media_url",
)  # fmt: skip


def _public_rows() -> QuerySet[Request]:
    latest_answer = (
        RequestUpdate.objects.filter(
            request_id=OuterRef("pk"), kind=UpdateKind.ANSWER, is_public=True
        )
        .order_by("-created_at", "-id")
        .values("text")[:1]
    )
    return Request.objects.filter(is_public=True, hidden_at__isnull=True).annotate(
        public_answer=Subquery(latest_answer)
    )


def request_rows_public(
    *,
    ids: list[str] | None = None,
    codes: list[str] | None = None,
    statuses: list[str] | None = None,
    start: datetime.datetime | None = None,
    end: datetime.datetime | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Public requests as rows (``PUBLIC_ROW_FIELDS`` and ``public_answer``, the latest
    public answer's text or None), newest first: by ids, or filtered by codes, statuses
    and date range. One query."""
    qs = _public_rows()
    fields = (*PUBLIC_ROW_FIELDS, "public_answer")
    if ids is not None:
        pks = [int(i) for i in ids if i.isdigit() and len(i) < 19]
        return list(qs.filter(pk__in=pks).order_by("-requested_at", "-id").values(*fields)[:limit])
    if codes:
        qs = qs.filter(category__code__in=codes)
    if statuses and set(statuses) != {"open", "closed"}:
        if statuses == ["open"]:
            qs = qs.filter(status__in=OPEN_STATUSES)
        else:
            qs = qs.exclude(status__in=OPEN_STATUSES)
    if start is not None:
        qs = qs.filter(requested_at__gte=start)
    if end is not None:
        qs = qs.filter(requested_at__lte=end)
    return list(qs.order_by("-requested_at", "-id").values(*fields)[:limit])


def request_by_token(*, token: str) -> Request | None:
    try:
        value = uuid.UUID(token)
    except ValueError:
        return None
    return Request.objects.filter(token=value, is_public=True, hidden_at__isnull=True).first()


def request_queue(*, department: str) -> QuerySet[Request]:
    """A department's open requests, oldest first; ``""`` is the triage queue."""
    return (
        Request.objects.filter(department=department, status__in=OPEN_STATUSES)
        .select_related("category")
        .order_by("requested_at", "id")
    )


def update_list_public(
    *, start: datetime.datetime, end: datetime.datetime, limit: int = 1000
) -> list[RequestUpdate]:
    """mySociety's servicerequestupdates: public updates of listed requests."""
    return list(
        RequestUpdate.objects.filter(
            is_public=True, created_at__gte=start, created_at__lte=end,
            request__is_public=True, request__hidden_at__isnull=True,
        )
        .exclude(kind=UpdateKind.CREATED)
        .order_by("created_at", "id")[:limit]
    )  # fmt: skip


# --- staff ---------------------------------------------------------------------------


def staff_request_get(*, pk: int) -> Request | None:
    """A request with everything its staff page shows (history in one more query)."""
    return (
        Request.objects.filter(pk=pk)
        .select_related("category", "area", "duplicate_of")
        .prefetch_related("updates", "duplicates")
        .first()
    )


def staff_may_work(*, staff: Any, request: Request) -> bool:
    """Department staff or supervisor of the owning department; the triage queue
    (department "") belongs to supervisors. The services check it again."""
    from machi.tenancy.context import current_lg_code

    municipality = getattr(staff, "municipality", None)
    if municipality is None or municipality.lg_code != current_lg_code():
        return False
    roles = {(m.department_id, m.role) for m in staff.memberships.all()}
    codes = _department_codes(staff, {d for d, _ in roles})
    if request.department == "":
        return any(role == "supervisor" for _, role in roles)
    return any(
        codes.get(d) == request.department and role in ("department_staff", "supervisor")
        for d, role in roles
    )


def _department_codes(staff: Any, ids: set[int]) -> dict[int, str]:
    from machi.accounts.models import Department

    return dict(Department.objects.filter(pk__in=ids).values_list("pk", "code"))


def request_reporter_reveal(
    *, request: Request, actor: Any, terminal: Terminal | None = None
) -> RequestReporter:
    """The reporter's contact details, for staff who may work the request; every view is
    audited (who, which request, from where; never the details themselves)."""
    from django.core.exceptions import PermissionDenied

    if not staff_may_work(staff=actor, request=request):
        raise PermissionDenied("この要望の連絡先を表示する権限がありません。")
    reporter = RequestReporter.objects.filter(request=request).first() or RequestReporter(
        request=request
    )
    audit_append(
        action="requests.reporter.revealed",
        actor=actor,
        object_type="request",
        object_id=request.service_request_id,
        function="requests:reporter",
        terminal=terminal,
    )
    return reporter


def response_templates_for(*, category: Category | None) -> list[ResponseTemplate]:
    """The templates for a category: its own and the general ones."""
    qs = ResponseTemplate.objects.select_related("category")
    if category is not None:
        qs = qs.filter(Q(category=category) | Q(category__isnull=True))
    return list(qs)


@dataclass(frozen=True)
class InboxRow:
    request: Request
    age_days: int
    overdue: bool


def department_request_inbox(
    *, department: str, limit: int = 100, now: datetime.datetime | None = None
) -> tuple[list[InboxRow], int]:
    """A department's open requests for its task list (oldest first, the category in the
    same query) and how many there are: two queries whatever the length."""
    now = now or timezone.now()
    queryset = request_queue(department=department)
    requests = list(queryset[:limit])
    total = len(requests) if len(requests) < limit else queryset.count()
    rows = [
        InboxRow(
            request=r,
            age_days=(now - r.requested_at).days,
            overdue=r.expected_at is not None and r.expected_at < now,
        )
        for r in requests
    ]
    return rows, total


@dataclass(frozen=True)
class Inbox:
    """The 「要望・通報」 section of a department's task list (and the triage queue for
    supervisors)."""

    rows: list[InboxRow]
    total: int
    triage_rows: list[InboxRow] | None  # None: not a supervisor
    triage_total: int


def staff_request_inbox(*, staff: Any, department: str, limit: int = 100) -> Inbox:
    rows, total = department_request_inbox(department=department, limit=limit)
    triage_rows, triage_total = None, 0
    if staff.has_role("supervisor"):
        triage_rows, triage_total = department_request_inbox(department="", limit=limit)
    return Inbox(rows, total, triage_rows, triage_total)


def request_attribute_answers(*, request: Request) -> list[tuple[str, str]]:
    """The answers to the extra questions as (question, answer text), in the
    category's order; answers to questions removed since keep their code."""
    questions = {a.code: a for a in request.category.attributes.all()}
    answers = []
    for code, value in request.attribute_values.items():
        attribute = questions.get(code)
        names = {v["key"]: v["name"] for v in attribute.values} if attribute else {}
        items = value if isinstance(value, list) else [value]
        text = "、".join(names.get(str(v), str(v)) for v in items)
        answers.append((attribute.description if attribute else code, text))
    return answers
