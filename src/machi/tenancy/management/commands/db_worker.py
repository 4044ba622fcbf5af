"""`machi db_worker`: django-tasks' database worker, which first enqueues the periodic
tasks that have no run waiting (:mod:`machi.tenancy.periodic`). Options as upstream."""

from __future__ import annotations

import logging
from typing import Any

from django_tasks_db.management.commands.db_worker import Command as DatabaseWorker

from machi.tenancy.periodic import periodic_ensure

logger = logging.getLogger("machi.tenancy.periodic")


class Command(DatabaseWorker):
    help = "Run the background worker (periodic tasks included)."

    def handle(self, *args: Any, **options: Any) -> None:
        for module_path in periodic_ensure():
            logger.info("periodic task enqueued: %s", module_path)
        super().handle(*args, **options)
