"""The municipality (tenant) in force for the current request, command or task."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar


class NoTenantError(RuntimeError):
    """A tenant model was used with no municipality in force."""


_current_lg_code: ContextVar[str | None] = ContextVar("machi_tenant", default=None)

TENANT_ALIAS_PREFIX = "tenant_"


def tenant_alias(lg_code: str) -> str:
    return f"{TENANT_ALIAS_PREFIX}{lg_code}"


def is_tenant_alias(alias: str) -> bool:
    return alias.startswith(TENANT_ALIAS_PREFIX)


def current_lg_code() -> str:
    """The lg_code in force; raises NoTenantError when there is none (fail closed)."""
    lg_code = _current_lg_code.get()
    if lg_code is None:
        raise NoTenantError(
            "No municipality is in force: tenant data can only be reached inside "
            "tenant_context() (request URL /<lg_code>/…, --tenant, or a task argument)."
        )
    return lg_code


def current_lg_code_or_none() -> str | None:
    return _current_lg_code.get()


def current_tenant_alias() -> str:
    return tenant_alias(current_lg_code())


@contextmanager
def tenant_context(lg_code: str) -> Iterator[str]:
    """Put municipality ``lg_code`` in force; its database connection is registered."""
    from machi.tenancy.databases import ensure_tenant_connection

    alias = ensure_tenant_connection(lg_code)
    token = _current_lg_code.set(lg_code)
    try:
        yield alias
    finally:
        _current_lg_code.reset(token)


@contextmanager
def no_tenant() -> Iterator[None]:
    """Run a block with no municipality in force (used by tests and platform code)."""
    token = _current_lg_code.set(None)
    try:
        yield
    finally:
        _current_lg_code.reset(token)
