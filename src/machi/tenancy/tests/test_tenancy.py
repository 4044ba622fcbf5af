from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connections

from machi.audit.models import AuditEntry, PlatformAuditEntry
from machi.audit.services import audit_append
from machi.tenancy.context import (
    NoTenantError,
    current_lg_code,
    no_tenant,
    tenant_context,
)
from machi.tenancy.models import Municipality
from machi.tenancy.router import TenantRouter
from machi.tenancy.services import TenantError, municipality_create

pytestmark = pytest.mark.django_db(databases="__all__")


def _tables(alias: str) -> set[str]:
    with connections[alias].cursor() as cursor:
        return set(connections[alias].introspection.table_names(cursor))


def test_orm_query_without_tenant_raises():
    with no_tenant(), pytest.raises(NoTenantError):
        AuditEntry.objects.count()
    with no_tenant(), pytest.raises(NoTenantError):
        audit_append(action="test")
    with pytest.raises(NoTenantError):
        current_lg_code()


def test_router_never_falls_back_to_another_database():
    router = TenantRouter()
    with no_tenant(), pytest.raises(NoTenantError):
        router.db_for_read(AuditEntry)
    with tenant_context("271403"):
        assert router.db_for_write(AuditEntry) == "tenant_271403"
        assert router.db_for_write(Municipality) == "default"
        assert router.db_for_write(PlatformAuditEntry) == "default"


def test_tenant_model_lands_in_its_own_database_only(municipality_a, municipality_b):
    with tenant_context("131016"):
        before_b = None
        entry = audit_append(action="test.isolation", object_id="A-1")
        assert entry._state.db == "tenant_131016"
    with tenant_context("271403"):
        assert not AuditEntry.objects.filter(object_id="A-1").exists()
        before_b = AuditEntry.objects.count()
    with tenant_context("131016"):
        assert AuditEntry.objects.filter(object_id="A-1").count() == 1
    with tenant_context("271403"):
        assert AuditEntry.objects.count() == before_b
    # The control database has no table for tenant models at all.
    assert "audit_auditentry" not in _tables("default")
    assert "audit_auditentry" in _tables("tenant_131016")
    assert "tenancy_municipality" not in _tables("tenant_131016")
    assert "accounts_staff" not in _tables("tenant_131016")


def test_allow_migrate_separates_control_and_tenant_models():
    router = TenantRouter()
    assert router.allow_migrate("default", "audit", "platformauditentry")
    assert not router.allow_migrate("default", "audit", "auditentry")
    assert router.allow_migrate("tenant_131016", "audit", "auditentry")
    assert not router.allow_migrate("tenant_131016", "accounts", "staff")
    assert not router.allow_migrate("tenant_131016", "sessions", "session")


def test_tenant_create_command_creates_and_migrates_database(new_tenants, capsys):
    new_tenants.append("131041")
    call_command("tenant", "create", "--code", "131041", "--name", "新宿区")
    out = capsys.readouterr().out
    assert "131041" in out and "新宿区" in out
    municipality = Municipality.objects.get(lg_code="131041")
    assert municipality.prefecture == "東京都"
    assert "audit_auditentry" in _tables("tenant_131041")
    with tenant_context("131041"):
        assert AuditEntry.objects.filter(action="municipality.created").count() == 1
    call_command("tenant", "list")
    assert "131041\t東京都\t新宿区" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("131017", "チェックデジット"),
        ("13101", "6桁"),
        ("13101a", "数字"),
    ],
)
def test_tenant_create_rejects_bad_codes(code, message):
    with pytest.raises(CommandError, match=message):
        call_command("tenant", "create", "--code", code, "--name", "x")
    assert not Municipality.objects.filter(lg_code=code).exists()


def test_tenant_create_refuses_duplicate():
    with pytest.raises(TenantError, match="既に登録"):
        municipality_create(lg_code="131016", name="千代田区")
    with pytest.raises(TenantError, match="既に登録"):
        municipality_create(lg_code="１３１０１６", name="千代田区")


def test_municipality_needs_a_name():
    with pytest.raises(ValidationError):
        municipality_create(lg_code="131130", name="  ")


def test_migrate_migrates_control_and_every_tenant(capsys):
    call_command("migrate", verbosity=1, interactive=False)
    out = capsys.readouterr().out
    assert "131016" in out and "271403" in out


def test_tenant_command_unknown_municipality():
    with pytest.raises(CommandError, match="登録されていません"):
        call_command("audit", "verify", "--tenant", "011002")
