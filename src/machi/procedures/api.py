"""`POST /api/v1/{lg_code}/navigator`: the navigator with the municipality's catalogue.

Public (``auth=None``): the navigator reads and returns no personal data (the caller
sends the household's facts and gets procedure codes back), and the residents'
pre-application page will call it without an account. TenantMiddleware puts the
municipality in force (unknown code → 404). As everywhere on the platform, a staff
session of *another* municipality (or a platform operator's) is refused with 403.
"""

from __future__ import annotations

import json

from django.http import HttpRequest
from ninja import Router, Schema, Status

from machi.procedures.engine import EVENT_LABELS, NavigatorInputError, RuleEvaluationError
from machi.procedures.selectors import navigator_run

router = Router(tags=["procedures"])


class ProcedureOut(Schema):
    code: str
    title: str
    department: str
    person: str | None
    filer: str | None
    due: str | None
    reason: str


class NavigatorOut(Schema):
    procedures: list[ProcedureOut]


class NavigatorError(Schema):
    detail: str
    errors: list[str]


_INPUT_SCHEMA = {
    "type": "object",
    "required": ["event", "persons"],
    "properties": {
        "event": {
            "type": "object",
            "required": ["type", "date", "subjects"],
            "properties": {
                "type": {"type": "string", "enum": list(EVENT_LABELS)},
                "date": {"type": "string", "format": "date"},
                "subjects": {"type": "array", "items": {"type": "string"}},
                "from_abroad": {"type": "boolean"},
                "to_abroad": {"type": "boolean"},
            },
        },
        "persons": {"type": "array", "items": {"type": "object"}},
        "answers": {"type": "object"},
    },
}


@router.post(
    "/{lg_code}/navigator",
    auth=None,
    response={200: NavigatorOut, 400: NavigatorError, 403: NavigatorError, 422: NavigatorError,
              500: NavigatorError},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _INPUT_SCHEMA}},
        }
    },
    summary="手続きナビゲーター",
)  # fmt: skip
def navigator(request: HttpRequest, lg_code: str):
    """Every procedure that follows a life event (DOMAIN.md §6): input and output JSON as
    documented there. Bad input → 422 with every problem, each naming its field."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        municipality = getattr(request, "municipality", None)
        if (
            user.is_platform_operator
            or municipality is None
            or (user.municipality_id != municipality.pk)
        ):
            message = "別の自治体のページです。"
            return Status(403, {"detail": message, "errors": [message]})
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as error:
        message = f"JSON として読めません: {error}"
        return Status(400, {"detail": message, "errors": [message]})
    try:
        return navigator_run(data=data)
    except NavigatorInputError as error:
        return Status(422, {"detail": str(error), "errors": error.errors})
    except RuleEvaluationError as error:
        message = f"手続き目録の条件を評価できませんでした: {error}"
        return Status(500, {"detail": message, "errors": [message]})
