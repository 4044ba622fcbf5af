from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourceIn:
    """A resource file to publish: ``format`` is one of CSV, JSON, GeoJSON, XLSX;
    ``media_type`` is what the caller says it is (the content decides)."""

    name: str
    format: str
    content: bytes
    media_type: str
