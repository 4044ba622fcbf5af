"""The board's background work (``machi db_worker``): the daily digest of replies in
followed threads, in every municipality (:mod:`machi.tenancy.periodic`)."""

from __future__ import annotations

import datetime
import logging

from django_tasks import task

from machi.tenancy.context import tenant_context
from machi.tenancy.periodic import periodic

logger = logging.getLogger(__name__)

# Hourly runs; each user's digest goes out once a day at most (digest_send skips those
# sent in the last 20 hours), so a late or repeated run sends nothing twice.
DIGEST_EVERY = datetime.timedelta(hours=1)


@periodic(every=DIGEST_EVERY)
@task()
def board_digest_task() -> dict[str, int]:
    from machi.board.services import digest_send
    from machi.tenancy.models import Municipality

    done: dict[str, int] = {}
    failed: list[str] = []
    for lg_code in Municipality.objects.order_by("lg_code").values_list("lg_code", flat=True):
        try:
            with tenant_context(lg_code):
                done[lg_code] = digest_send()
        except Exception:
            logger.exception("board digest failed for %s", lg_code)
            failed.append(lg_code)
    if failed:
        raise RuntimeError(f"board digest failed for {', '.join(failed)}")
    return done
