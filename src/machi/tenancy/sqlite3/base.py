"""Django's SQLite backend, with writers waiting in a queue instead of polling (and
statements rewritten for ``sqlite3`` once, not at every execution).

Every transaction on SQLite takes the database's write lock up front (``BEGIN
IMMEDIATE``, see :mod:`machi.tenancy.dbconfig`). A connection that finds it taken
waits in SQLite's busy handler, which *sleeps* 1, 2, 5, 10, 15, 20, 25, 25, 25, 50,
50, 100 ms between attempts: with a dozen concurrent writers the lock is often free
while every waiter sleeps, and some wait for seconds (measured: p50 150 ms, p95 1.2 s
at 20 concurrent intakes).

Here a transaction first takes a writer lock of its own for the database file: a
thread lock within the process (waiters are woken the moment it is released), then an
advisory ``flock`` on ``<database>-writers`` between processes (gunicorn workers,
commands), polled every half millisecond. It is released when the transaction commits
or rolls back. SQLite's own locking is untouched: the queue only decides who asks
next. A waiter gives up queueing after the connection's timeout and goes on to
``BEGIN IMMEDIATE`` as before (SQLite then decides, as it always did), so the queue
can never deadlock where SQLite would not. In-memory databases have no queue.

Checkpoints (copying the WAL back into the database file) run outside the queue too.
SQLite runs one inside the ``COMMIT`` that takes the WAL past its threshold, i.e. with
that writer still at the head of the queue: measured in-process, one intake in twelve
spent ~4.7 ms there, 60 % of all the time spent committing, with every other writer
waiting. Here each connection runs a passive checkpoint — it copies what it can and
never blocks a writer — after leaving the queue, every ``CHECKPOINT_EVERY`` of its own
write transactions; SQLite's own automatic checkpoint stays as a backstop at a higher
threshold (``wal_autocheckpoint`` in :mod:`machi.tenancy.dbconfig`).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import threading
import time
from collections.abc import Iterator

from django.db import connections
from django.db.backends.sqlite3 import base

_registry_lock = threading.Lock()
_queues: dict[str, _WriterQueue] = {}

POLL_SECONDS = 0.0005
CHECKPOINT_EVERY = 8  # write transactions of one connection; an intake adds ~90 WAL pages


class _WriterQueue:
    """The writers of one database file in this process."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.thread_lock = threading.Lock()
        self.fd: int | None = None
        self.pid = os.getpid()

    def _file(self) -> int:
        if self.fd is None or self.pid != os.getpid():  # a forked worker opens its own
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self.pid = os.getpid()
        return self.fd

    def acquire(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if not self.thread_lock.acquire(timeout=max(timeout, 0)):
            return False
        try:
            fd = self._file()
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        break
                    time.sleep(POLL_SECONDS)
        except BaseException:
            self.thread_lock.release()
            raise
        self.thread_lock.release()
        return False

    def release(self) -> None:
        try:
            if self.fd is not None and self.pid == os.getpid():
                fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.thread_lock.release()


def _queue(path: str) -> _WriterQueue:
    with _registry_lock:
        queue = _queues.get(path)
        if queue is None:
            queue = _queues[path] = _WriterQueue(path)
        return queue


@contextlib.contextmanager
def deferred_begin(using: str) -> Iterator[None]:
    """Transactions opened in the block on database ``using`` begin (take the writers'
    queue and SQLite's write lock) at their first statement, not when ``atomic`` is
    entered: the Python work before it — validating, building rows — runs without
    holding up the other writers. Opt-in, because code that writes through the raw
    ``sqlite3`` connection inside ``atomic`` expects the transaction to be open already.
    No effect on other databases."""
    connection = connections[using]
    previous = getattr(connection, "begin_deferred", False)
    connection.begin_deferred = True
    try:
        yield
    finally:
        connection.begin_deferred = previous


def _rewrite(query: str) -> str:
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


_qmark = functools.lru_cache(maxsize=1024)(_rewrite)
QMARK_CACHED_LENGTH = 4096  # longer statements (bulk inserts, long IN lists) vary: not kept


class _Cursor(base.SQLiteCursorWrapper):
    """Django's cursor, remembering its ``%s`` → ``?`` rewrite of each statement (a
    regular expression over the whole text, per execution: ~4 % of an intake's time
    with the write lock held)."""

    def convert_query(self, query: str, *, param_names: list[str] | None = None) -> str:
        if param_names is not None:
            return super().convert_query(query, param_names=param_names)
        return _qmark(query) if len(query) <= QMARK_CACHED_LENGTH else _rewrite(query)


class DatabaseWrapper(base.DatabaseWrapper):
    _writer_queue: _WriterQueue | None = None
    begin_deferred = False  # see deferred_begin
    _begin_pending = False
    _writes_since_checkpoint = 0

    def create_cursor(self, name: str | None = None):
        return self.connection.cursor(factory=_Cursor)

    def _cursor(self, name: str | None = None):
        if self._begin_pending:
            self._begin_pending = False
            self._begin()
        return super()._cursor(name)

    def _writers(self) -> _WriterQueue | None:
        if self.is_in_memory_db():
            return None
        return _queue(f"{os.path.abspath(str(self.settings_dict['NAME']))}-writers")

    def _start_transaction_under_autocommit(self) -> None:
        if self.begin_deferred:
            self._begin_pending = True
            return
        self._begin()

    def _begin(self) -> None:
        queue = self._writers()
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        if queue is not None and self._writer_queue is None and queue.acquire(timeout):
            self._writer_queue = queue
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._leave_queue()
            raise

    def _leave_queue(self) -> None:
        queue, self._writer_queue = self._writer_queue, None
        if queue is not None:
            queue.release()

    def _commit(self) -> None:
        self._begin_pending = False
        queued = self._writer_queue is not None
        try:
            super()._commit()
        finally:
            self._leave_queue()
        if queued:
            self._writes_since_checkpoint += 1
            if self._writes_since_checkpoint >= CHECKPOINT_EVERY:
                self._checkpoint()

    def _checkpoint(self) -> None:
        self._writes_since_checkpoint = 0
        # Busy (another checkpoint running) is not an error: the backstop remains.
        with contextlib.suppress(base.Database.Error):
            self.connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def _rollback(self) -> None:
        self._begin_pending = False
        try:
            super()._rollback()
        finally:
            self._leave_queue()

    def _close(self) -> None:
        self._begin_pending = False
        try:
            super()._close()
        finally:
            with contextlib.suppress(RuntimeError):
                self._leave_queue()
