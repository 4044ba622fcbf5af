"""Sends every tenant model to the database of the municipality in force; fails closed."""

from __future__ import annotations

from typing import Any

from django.apps import apps

from machi.tenancy.context import current_tenant_alias, is_tenant_alias


def is_tenant_model(app_label: str, model_name: str | None) -> bool:
    try:
        config = apps.get_app_config(app_label)
    except LookupError:
        return False
    tenant_models = getattr(config, "tenant_models", frozenset())
    if tenant_models == "__all__":
        return True
    return model_name is not None and model_name.lower() in tenant_models


class TenantRouter:
    def _route(self, model: Any) -> str:
        if is_tenant_model(model._meta.app_label, model._meta.model_name):
            # Raises NoTenantError when no municipality is in force: never a fallback.
            return current_tenant_alias()
        return "default"

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return self._route(model)

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return self._route(model)

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return obj1._state.db == obj2._state.db

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool:
        tenant = is_tenant_model(app_label, model_name)
        if is_tenant_alias(db):
            return tenant
        return not tenant
