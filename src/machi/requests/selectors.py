"""Reads on requests. Public reads never touch RequestReporter and skip hidden or
non-public requests."""

from __future__ import annotations

import datetime
import uuid

from django.db.models import Max, Prefetch, QuerySet

from machi.requests.models import (
    OPEN_STATUSES,
    Category,
    CategoryAttribute,
    Request,
    RequestUpdate,
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


def _public() -> QuerySet[Request]:
    latest_answers = RequestUpdate.objects.filter(kind=UpdateKind.ANSWER, is_public=True).order_by(
        "-created_at", "-id"
    )
    return (
        Request.objects.filter(is_public=True, hidden_at__isnull=True)
        .select_related("category")
        .prefetch_related(Prefetch("updates", latest_answers, to_attr="public_answers"))
    )


def request_list_public(
    *,
    ids: list[str] | None = None,
    codes: list[str] | None = None,
    statuses: list[str] | None = None,
    start: datetime.datetime | None = None,
    end: datetime.datetime | None = None,
    limit: int = 1000,
) -> list[Request]:
    """Public requests, newest first: by ids, or filtered by codes/statuses/date range."""
    qs = _public()
    if ids is not None:
        pks = [int(i) for i in ids if i.isdigit() and len(i) < 19]
        return list(qs.filter(pk__in=pks)[:limit])
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
    return list(qs.order_by("-requested_at", "-id")[:limit])


def request_latest_public_answer(*, request: Request) -> str:
    answers = getattr(request, "public_answers", None)
    if answers is None:
        answers = list(
            request.updates.filter(kind=UpdateKind.ANSWER, is_public=True).order_by(
                "-created_at", "-id"
            )[:1]
        )
    return answers[0].text if answers else ""


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
