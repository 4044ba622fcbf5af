"""The API's error documents, shared by every router and by the platform's own answers
(unknown municipality, refused credentials, bad parameters, oversized bodies)."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema


class ErrorOut(Schema):
    detail: str


class ValidationProblem(Schema):
    type: str = Field(description="pydantic's error type, e.g. less_than_equal")
    loc: list[str | int] = Field(description='where: ["query", "limit"], ["path", …]')
    msg: str
    ctx: dict[str, Any] | None = Field(None, description="the bound that failed, if any")


class ValidationErrorOut(Schema):
    """422 for a parameter of the wrong type or out of its bounds."""

    detail: list[ValidationProblem]
