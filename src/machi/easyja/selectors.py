"""The ふりがな configuration in force for the municipality of the request.

Read on every やさしい日本語 page, so it is kept per process and per municipality for
:data:`TTL` seconds; the services drop it at once when staff change it (another worker
process sees the change within the TTL).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from machi.easyja.models import ReadingCorrection, RubySetting
from machi.japanese.ruby import DEFAULT_GRADE, Corrections, normalise_corrections
from machi.tenancy.context import current_tenant_alias

TTL = 60.0


@dataclass(frozen=True)
class RubyConfig:
    grade: int = DEFAULT_GRADE
    corrections: Corrections = ()


_cache: dict[str, tuple[float, RubyConfig]] = {}
_lock = threading.Lock()


def ruby_config_load() -> RubyConfig:
    """From the database of the municipality in force (two queries)."""
    setting = RubySetting.objects.first()
    pairs = ReadingCorrection.objects.values_list("word", "reading")
    return RubyConfig(
        grade=setting.grade if setting else DEFAULT_GRADE,
        corrections=normalise_corrections(list(pairs)),
    )


def ruby_config(*, clock=time.monotonic) -> RubyConfig:
    """The configuration of the municipality in force, cached (see the module)."""
    alias = current_tenant_alias()
    now = clock()
    with _lock:
        cached = _cache.get(alias)
    if cached is not None and now - cached[0] < TTL:
        return cached[1]
    config = ruby_config_load()
    with _lock:
        _cache[alias] = (now, config)
    return config


def ruby_config_forget(alias: str | None = None) -> None:
    with _lock:
        if alias is None:
            _cache.clear()
        else:
            _cache.pop(alias, None)
