from __future__ import annotations

import itertools

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connections, transaction

from machi.audit.models import AuditEntry
from machi.audit.selectors import audit_verify, platform_audit_verify
from machi.audit.services import Terminal, audit_append, platform_audit_append
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

TABLE = "audit_auditentry"


def _drop_triggers(alias: str) -> None:
    """What an attacker with database access does first."""
    with connections[alias].cursor() as cursor:
        if connections[alias].vendor == "sqlite":
            cursor.execute(f"DROP TRIGGER {TABLE}_no_update")
            cursor.execute(f"DROP TRIGGER {TABLE}_no_delete")
        else:
            cursor.execute(f"DROP TRIGGER {TABLE}_append_only ON {TABLE}")


def _raw(alias: str, sql: str, params=()) -> None:
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def log_of_five():
    """Municipality A's log with at least five fresh entries; yields their seqs."""
    with tenant_context("131016") as alias:
        seqs = [
            audit_append(
                action="resident.viewed",
                object_type="resident",
                object_id=f"10000{i}",
                function="registry:resident",
                terminal=Terminal("192.0.2.1", "pytest"),
                purpose="窓口での本人確認",
                my_number_shown=i == 2,
            ).seq
            for i in range(5)
        ]
        yield alias, seqs


def test_clean_chain_verifies(log_of_five):
    result = audit_verify()
    assert result.ok
    assert result.entries >= 5
    entries = list(AuditEntry.objects.order_by("seq"))
    for previous, entry in itertools.pairwise(entries):
        assert entry.prev_hash == previous.entry_hash
        assert entry.seq == previous.seq + 1


def test_entries_record_who_what_where(log_of_five):
    _, seqs = log_of_five
    entry = AuditEntry.objects.get(seq=seqs[2])
    assert entry.object_id == "100002"
    assert entry.ip_address == "192.0.2.1"
    assert entry.user_agent == "pytest"
    assert entry.purpose == "窓口での本人確認"
    assert entry.my_number_shown and not entry.my_number_changed
    assert entry.created_at is not None


def test_triggers_refuse_update_and_delete(log_of_five):
    alias, seqs = log_of_five
    with pytest.raises(DatabaseError), transaction.atomic(using=alias):
        _raw(alias, f"UPDATE {TABLE} SET action = 'x' WHERE seq = %s", [seqs[0]])
    with pytest.raises(DatabaseError), transaction.atomic(using=alias):
        _raw(alias, f"DELETE FROM {TABLE} WHERE seq = %s", [seqs[0]])
    assert audit_verify().ok


def _position(seq: int) -> int:
    return AuditEntry.objects.filter(seq__lte=seq).count()


def test_edited_entry_is_reported_with_its_position(log_of_five):
    alias, seqs = log_of_five
    _drop_triggers(alias)
    _raw(alias, f"UPDATE {TABLE} SET object_id = '999999' WHERE seq = %s", [seqs[1]])
    result = audit_verify()
    assert not result.ok
    assert result.seq == seqs[1]
    assert result.position == seqs[1]
    assert "改ざん" in result.reason


def test_deleted_entry_is_reported(log_of_five):
    alias, seqs = log_of_five
    _drop_triggers(alias)
    _raw(alias, f"DELETE FROM {TABLE} WHERE seq = %s", [seqs[2]])
    result = audit_verify()
    assert not result.ok
    assert result.position == seqs[2]
    assert result.seq == seqs[3]
    assert "削除" in result.reason


def test_deleted_last_entry_is_reported(log_of_five):
    alias, seqs = log_of_five
    _drop_triggers(alias)
    _raw(alias, f"DELETE FROM {TABLE} WHERE seq = %s", [seqs[-1]])
    result = audit_verify()
    assert not result.ok
    assert result.position == seqs[-1]
    assert "末尾" in result.reason


def test_reordered_entries_are_reported(log_of_five):
    alias, seqs = log_of_five
    _drop_triggers(alias)
    a, b = seqs[1], seqs[3]
    _raw(alias, f"UPDATE {TABLE} SET seq = 999999999 WHERE seq = %s", [a])
    _raw(alias, f"UPDATE {TABLE} SET seq = %s WHERE seq = %s", [a, b])
    _raw(alias, f"UPDATE {TABLE} SET seq = %s WHERE seq = 999999999", [b])
    result = audit_verify()
    assert not result.ok
    assert result.position == a


def test_rewritten_hash_is_still_caught_by_the_next_link(log_of_five):
    """Editing an entry and recomputing its own hash breaks the next entry's link."""
    from machi.audit.chain import HASHED_FIELDS, entry_hash

    alias, seqs = log_of_five
    _drop_triggers(alias)
    entry = AuditEntry.objects.get(seq=seqs[1])
    entry.object_id = "999999"
    forged = entry_hash({f: getattr(entry, f) for f in HASHED_FIELDS}, entry.prev_hash)
    _raw(
        alias,
        f"UPDATE {TABLE} SET object_id = '999999', entry_hash = %s WHERE seq = %s",
        [forged, seqs[1]],
    )
    result = audit_verify()
    assert not result.ok
    assert result.seq == seqs[2]


def test_verify_command(log_of_five, capsys):
    alias, seqs = log_of_five
    call_command("audit", "verify", "--tenant", "131016")
    assert "正常" in capsys.readouterr().out
    _drop_triggers(alias)
    _raw(alias, f"UPDATE {TABLE} SET purpose = '' WHERE seq = %s", [seqs[0]])
    with pytest.raises(CommandError, match=f"{seqs[0]} 件目"):
        call_command("audit", "verify", "--tenant", "131016")
    with pytest.raises(CommandError, match="どちらか一方"):
        call_command("audit", "verify")


def test_platform_log_chain():
    platform_audit_append(action="platform.test")
    assert platform_audit_verify().ok
    call_command("audit", "verify", "--platform")


def test_each_municipality_has_its_own_chain():
    with tenant_context("131016"):
        a = audit_append(action="a")
    with tenant_context("271403"):
        b = audit_append(action="b")
        assert not AuditEntry.objects.filter(action="a", seq=a.seq, entry_hash=a.entry_hash)
        assert AuditEntry.objects.filter(pk=b.pk).exists()
        assert audit_verify().ok
