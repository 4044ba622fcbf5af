"""Fixtures shared with the registry tests (residents moved in through the services)."""

from machi.registry.tests.conftest import in_a, move_in  # noqa: F401
