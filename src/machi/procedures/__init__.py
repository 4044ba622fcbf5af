"""The procedure catalogue and the navigator (DOMAIN.md §6).

The rules engine is :mod:`machi.procedures.engine` (pure Python); this app adds a
municipality's catalogue override (versioned, in the tenant database), the
administrator's upload page, the API endpoint and the ``machi navigator`` command.
"""
