"""Event types and the patterns that select them (pull feed ``types=``, subscriptions)."""

from __future__ import annotations

from collections.abc import Iterable

EVENT_TYPE_PREFIX = "jp.machi."


def event_type_pattern_valid(pattern: str) -> bool:
    """A pattern is an exact type or a prefix ending in ``.*`` (``jp.machi.resident.*``)."""
    if not pattern.startswith(EVENT_TYPE_PREFIX):
        return False
    stem = pattern.removesuffix(".*")
    return "*" not in stem and not stem.endswith(".") and ".." not in stem


def event_type_matches(patterns: Iterable[str], event_type: str) -> bool:
    """Whether ``event_type`` is selected by any pattern; no patterns select everything."""
    patterns = list(patterns)
    if not patterns:
        return True
    for pattern in patterns:
        if pattern.endswith(".*"):
            if event_type.startswith(pattern[:-1]):
                return True
        elif event_type == pattern:
            return True
    return False
