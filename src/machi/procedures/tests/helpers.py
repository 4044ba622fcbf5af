"""Scenario builders for the navigator tests (pure Python)."""

from __future__ import annotations

from typing import Any

D = "2026-04-03"  # a Friday
ADULT = "1980-05-10"
CHILD = "2019-06-01"  # elementary school on D (started 2026-04-01), eligible child


def P(pid: str, birth: str = ADULT, **fields: Any) -> dict[str, Any]:
    """A person; insurance "employee" unless given."""
    return {
        "id": pid,
        "birth_date": birth,
        "insurance": fields.pop("insurance", "employee"),
        **fields,
    }


def S(
    event: str,
    subjects: list[str],
    persons: list[dict[str, Any]],
    answers: dict[str, Any] | None = None,
    date: str = D,
    **flags: Any,
) -> dict[str, Any]:
    return {
        "event": {"type": event, "date": date, "subjects": subjects, **flags},
        "persons": persons,
        "answers": answers or {},
    }


def fired(result: dict[str, Any], code: str) -> list[str | None]:
    return [p["person"] for p in result["procedures"] if p["code"] == code]


def due(result: dict[str, Any], code: str) -> str | None:
    dues = {p["due"] for p in result["procedures"] if p["code"] == code}
    assert len(dues) == 1, dues
    return dues.pop()
