"""Staff sessions: Django's database sessions, read on every request with one planned
statement instead of a compiled queryset (``SESSION_ENGINE``)."""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.db import connections, router
from django.utils import timezone

from machi.tenancy.rows import rows_select


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self) -> Session | None:
        if self.session_key is None:
            return None
        using = router.db_for_read(self.model)
        now = connections[using].ops.adapt_datetimefield_value(timezone.now())
        found = rows_select(
            self.model,
            using=using,
            where="session_key = %s AND expire_date > %s",
            params=[self.session_key, now],
        )
        if not found:
            self._session_key = None  # unknown or expired: a new session is made
            return None
        return found[0]
