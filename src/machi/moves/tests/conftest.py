"""Fixtures shared with the registry tests (residents moved in through the services) and
the one-step move's own (a family at A, A's records staff, B's counter clerk)."""

from machi.moves.tests.test_moves import clerk_b, family, shimin_a  # noqa: F401
from machi.registry.tests.conftest import in_a, move_in  # noqa: F401
