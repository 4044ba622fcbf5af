"""続柄 (relationship to the householder), DOMAIN.md §5."""

from __future__ import annotations

from django.core.exceptions import ValidationError

HOUSEHOLDER = "世帯主"
LINKS = frozenset({"夫", "妻", "夫(未届)", "妻(未届)", "子", "父", "母", "兄", "姉", "弟", "妹"})
STANDALONE = frozenset({HOUSEHOLDER, "縁故者", "同居人"})
MAX_LINKS = 4


def relationship_problem(value: str) -> str | None:
    """Why ``value`` is not a valid relationship, or None when it is."""
    text = value.strip().replace("（", "(").replace("）", ")")
    if not text:
        return "続柄を入力してください。"
    if text in STANDALONE:
        return None
    links = text.split("の")
    if len(links) > MAX_LINKS:
        return f"続柄「{value}」は「の」でつなげるのは{MAX_LINKS}つまでです。"
    unknown = [link for link in links if link not in LINKS]
    if unknown:
        return f"続柄「{value}」に使えない語があります: {'、'.join(unknown)}"
    return None


def validate_relationship(value: str) -> None:
    if problem := relationship_problem(value):
        raise ValidationError(problem, code="relationship")
