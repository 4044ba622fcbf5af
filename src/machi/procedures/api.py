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

from machi.procedures.engine import NavigatorInputError, RuleEvaluationError
from machi.procedures.engine.schema import input_json_schema
from machi.procedures.selectors import navigator_run

router = Router(tags=["procedures"])


class ProcedureOut(Schema):
    """One procedure for one person (``person`` null: the household); ``filer`` the
    person who files or receives when not ``person``, else null."""

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


# The request schema is the engine's own input model (NavigatorIn): the types, the
# enums and the minimum lengths the code enforces. The body is read here rather than by
# ninja so that every refusal has the navigator's shape (detail + one line per field).
_INPUT_SCHEMA = input_json_schema()
_ERROR_REF = "#/components/schemas/NavigatorError"


@router.post(
    "/{lg_code}/navigator",
    auth=None,
    response={200: NavigatorOut, 400: NavigatorError, 403: NavigatorError, 422: NavigatorError,
              500: NavigatorError},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _INPUT_SCHEMA}},
        },
        # what this endpoint's 422 means (ninja describes every status generically)
        "responses": {"422": {
            "description": "the input is refused: every problem, each naming its field",
            "content": {"application/json": {"schema": {"$ref": _ERROR_REF}}},
        }},
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
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        message = f"JSON として読めません: {error}"
        return Status(400, {"detail": message, "errors": [message]})
    try:
        return navigator_run(data=data)
    except NavigatorInputError as error:
        return Status(422, {"detail": str(error), "errors": error.errors})
    except RuleEvaluationError as error:
        message = f"手続き目録の条件を評価できませんでした: {error}"
        return Status(500, {"detail": message, "errors": [message]})
