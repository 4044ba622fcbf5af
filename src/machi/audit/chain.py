"""The hash chain: how an entry's hash is computed and how a log is verified."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64

HASHED_FIELDS = (
    "seq",
    "created_at",
    "actor_id",
    "actor_username",
    "action",
    "object_type",
    "object_id",
    "function",
    "ip_address",
    "user_agent",
    "purpose",
    "my_number_shown",
    "my_number_changed",
    "detail",
)


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        # Microsecond precision in UTC: what both SQLite and PostgreSQL keep.
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value


def entry_hash(fields: dict[str, Any], prev_hash: str) -> str:
    payload = {name: _canonical(fields[name]) for name in HASHED_FIELDS}
    payload["prev_hash"] = prev_hash
    data = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    position: int | None = None  # 1-based position in the log where the chain breaks
    seq: int | None = None
    reason: str = ""


def verify_entries(entries: Iterable[Any], *, head_seq: int | None = None) -> VerifyResult:
    """Recompute the chain over entries ordered by seq; report the first broken entry."""
    prev_hash = GENESIS_HASH
    count = 0
    for position, entry in enumerate(entries, start=1):
        count = position
        if entry.seq != position:
            reason = (
                f"通番が {position} であるべきところ {entry.seq} です"
                "（前の記録が削除または並べ替えられています）"
            )
            return VerifyResult(False, count, position, entry.seq, reason)
        if entry.prev_hash != prev_hash:
            return VerifyResult(
                False,
                count,
                position,
                entry.seq,
                "前の記録のハッシュと一致しません（並べ替えまたは改ざん）",
            )
        fields = {name: getattr(entry, name) for name in HASHED_FIELDS}
        if entry_hash(fields, prev_hash) != entry.entry_hash:
            return VerifyResult(
                False, count, position, entry.seq, "記録の内容がハッシュと一致しません（改ざん）"
            )
        prev_hash = entry.entry_hash
    if head_seq is not None and head_seq != count:
        return VerifyResult(
            False,
            count,
            count + 1,
            count + 1,
            f"最後の記録の通番は {head_seq} のはずですが {count} 件しかありません（末尾の削除）",
        )
    return VerifyResult(True, count)
