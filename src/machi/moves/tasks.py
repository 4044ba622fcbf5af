"""The relay as a background task (``db_worker``), triggered after each commit that
gives it work. A lost trigger loses nothing: the next run catches up from the cursor."""

from __future__ import annotations

from django_tasks import task

from machi.moves.relay import moves_relay
from machi.tenancy.context import current_lg_code
from machi.tenancy.tasks import in_tenant


@task()
@in_tenant
def moves_relay_task() -> dict[str, object]:
    """Run the relay of the municipality given as the task's argument."""
    return moves_relay(lg_code=current_lg_code()).as_dict()
