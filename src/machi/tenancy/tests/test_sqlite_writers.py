"""The SQLite writers' queue (machi.tenancy.sqlite3): a writer waiting for the write lock
goes in as soon as the holder commits or rolls back, whether the holder is a thread of
this process or another process; a waiter gives up queueing after the connection's
timeout instead of hanging. Real SQLite files, real threads, real flock."""

from __future__ import annotations

import fcntl
import os
import threading
import types

import pytest
from django.db import connections, transaction

from machi.tenancy.databases import register_tenant_connection, unregister_tenant_connection
from machi.tenancy.dbconfig import SQLITE_ENGINE, database_config, sqlite_url

LG_CODE = "999901"  # an alias of its own, not a municipality
ALIAS = f"tenant_{LG_CODE}"


@pytest.fixture
def writers_db(tmp_path, django_db_blocker):
    path = tmp_path / "writers.sqlite3"
    with django_db_blocker.unblock():
        register_tenant_connection(LG_CODE, sqlite_url(path))
        with connections[ALIAS].cursor() as cursor:
            cursor.execute("CREATE TABLE t (v INTEGER)")
        connections[ALIAS].close()
        yield path
        connections[ALIAS].close()
        unregister_tenant_connection(LG_CODE)


def _insert(value: int) -> None:
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("INSERT INTO t (v) VALUES (%s)", [value])


def _values() -> list[int]:
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("SELECT v FROM t ORDER BY rowid")
        return [row[0] for row in cursor.fetchall()]


def _in_thread(target, name: str | None = None) -> threading.Thread:
    def run():
        try:
            target()
        finally:
            connections[ALIAS].close()

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread


def test_sqlite_urls_get_the_queueing_backend(tmp_path):
    config = database_config(sqlite_url(tmp_path / "x.sqlite3"))
    assert config["ENGINE"] == SQLITE_ENGINE == "machi.tenancy.sqlite3"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert config["CONN_MAX_AGE"] > 0


@pytest.fixture
def queue(writers_db, monkeypatch):
    """The database's writers queue, with each ``acquire`` recorded (thread name,
    outcome) and ``entered`` set when a thread named "waiter" starts waiting."""
    from machi.tenancy.sqlite3.base import _queue

    writers = _queue(os.path.abspath(f"{writers_db}-writers"))
    writers.calls, writers.entered = [], threading.Event()
    acquire = writers.acquire

    def recorded(timeout: float) -> bool:
        if threading.current_thread().name == "waiter":
            writers.entered.set()
        got = acquire(timeout)
        writers.calls.append((threading.current_thread().name, got))
        return got

    monkeypatch.setattr(writers, "acquire", recorded)
    return writers


def _no_busy_handler() -> None:
    """SQLite's own busy handler off on this thread's connection: a writer not held back
    by the queue would fail at once ("database is locked") instead of polling."""
    connections[ALIAS].ensure_connection()
    connections[ALIAS].connection.execute("PRAGMA busy_timeout = 0")


def test_a_waiting_writer_goes_in_when_the_holder_commits(queue):
    """The waiter queues behind the holder and goes in after its commit, woken by the
    queue: with SQLite's busy handler off, only the queue can make it wait."""
    holding, release, order, errors = threading.Event(), threading.Event(), [], []

    def holder():
        with transaction.atomic(using=ALIAS):
            _insert(1)
            holding.set()
            release.wait(timeout=20)
            order.append("holder commits")

    def waiter():
        holding.wait(timeout=20)
        _no_busy_handler()
        try:
            with transaction.atomic(using=ALIAS):
                order.append("waiter in")
                _insert(2)
        except Exception as error:  # the assertion below names it
            errors.append(error)

    threads = [_in_thread(holder), _in_thread(waiter, name="waiter")]
    assert queue.entered.wait(timeout=20)  # the waiter is at the queue…
    release.set()  # …while the holder still holds the write lock
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []
    assert order == ["holder commits", "waiter in"]
    assert ("waiter", True) in queue.calls
    assert _values() == [1, 2]


def test_a_rolled_back_holder_lets_the_next_writer_in(writers_db):
    with pytest.raises(RuntimeError), transaction.atomic(using=ALIAS):
        _insert(1)
        raise RuntimeError("refused")
    done = threading.Event()

    def writer():
        with transaction.atomic(using=ALIAS):
            _insert(2)
        done.set()

    _in_thread(writer).join(timeout=20)
    assert done.is_set()
    assert _values() == [2]


def test_a_writer_waits_for_another_process_holding_the_lock(writers_db, monkeypatch):
    """Another process (here: another open file description of the lock file, which
    flock treats exactly like another process) holds the queue: the writer is refused
    the lock, waits, and goes in once it is released."""
    from machi.tenancy.sqlite3 import base

    refused, released, marks = threading.Event(), threading.Event(), {}
    real_flock = fcntl.flock

    def observed_flock(fd: int, operation: int) -> None:
        try:
            real_flock(fd, operation)
        except BlockingIOError:
            refused.set()
            raise

    # base.fcntl is the module: give the backend its own copy with the observed flock.
    monkeypatch.setattr(
        base, "fcntl", types.SimpleNamespace(**{**vars(fcntl), "flock": observed_flock})
    )
    fd = os.open(f"{writers_db}-writers", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)

        def writer():
            with transaction.atomic(using=ALIAS):
                marks["in after release"] = released.is_set()
                _insert(1)

        thread = _in_thread(writer)
        assert refused.wait(timeout=20)  # the writer tried and was refused…
        assert "in after release" not in marks  # …and is still queued
        released.set()
        fcntl.flock(fd, fcntl.LOCK_UN)
        thread.join(timeout=20)
    finally:
        os.close(fd)
    assert marks == {"in after release": True}
    assert _values() == [1]


def test_a_writer_gives_up_queueing_after_the_timeout(queue):
    """The queue never hangs where SQLite would not: a lock file held for good (a
    stuck process) costs the writer its timeout, then SQLite itself decides (here the
    database is free, so the write goes through, outside the queue)."""
    connections.settings[ALIAS]["OPTIONS"]["timeout"] = 0.05
    connections[ALIAS].close()
    fd = os.open(f"{queue.path}", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with transaction.atomic(using=ALIAS):
            assert connections[ALIAS]._writer_queue is None  # not in the queue
            _insert(1)
    finally:
        os.close(fd)
    assert queue.calls == [("MainThread", False)]
    assert _values() == [1]


def test_statements_are_rewritten_once_and_the_same_way(writers_db):
    from machi.tenancy.sqlite3.base import _qmark

    query = "SELECT %s, '100%%', %s || '%%s'"
    before = _qmark.cache_info().hits
    with connections[ALIAS].cursor() as cursor:
        for _ in range(2):
            cursor.execute(query, ["a", "b"])
            assert cursor.fetchone() == ("a", "100%", "b%s")
        cursor.execute("SELECT %(x)s, %(x)s || '%%'", {"x": "c"})  # named: Django's own path
        assert cursor.fetchone() == ("c", "c%")
        assert _qmark.cache_info().hits > before
        kept = _qmark.cache_info().currsize
        long = "SELECT %s" + ", '%%'" * 1000  # a long statement is rewritten, not kept
        cursor.execute(long, ["d"])
        assert cursor.fetchone() == ("d", *["%"] * 1000)
        assert _qmark.cache_info().currsize == kept


def test_checkpoints_run_after_the_writer_has_left_the_queue(writers_db):
    """SQLite would checkpoint inside the COMMIT that fills the WAL, with every other
    writer waiting; the backend checkpoints every CHECKPOINT_EVERY write transactions
    of a connection, once it holds the queue no more."""
    from machi.tenancy.sqlite3.base import CHECKPOINT_EVERY

    connection = connections[ALIAS]
    connection.ensure_connection()
    assert connection.connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0] >= 10_000
    queue = os.open(f"{writers_db}-writers", os.O_RDWR | os.O_CREAT, 0o600)
    seen = []

    def trace(statement):
        if "wal_checkpoint" in statement:
            try:  # another process could take the queue now
                fcntl.flock(queue, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(queue, fcntl.LOCK_UN)
                seen.append("checkpoint, queue free")
            except BlockingIOError:
                seen.append("checkpoint, queue held")
        elif statement == "COMMIT":
            seen.append("commit")

    connection.connection.set_trace_callback(trace)
    try:
        for value in range(2 * CHECKPOINT_EVERY):
            with transaction.atomic(using=ALIAS):
                _insert(value)
        with connections[ALIAS].cursor() as cursor:  # autocommit reads: no transaction
            cursor.execute("SELECT count(*) FROM t")
    finally:
        connection.connection.set_trace_callback(None)
        os.close(queue)
    expected = (["commit"] * CHECKPOINT_EVERY + ["checkpoint, queue free"]) * 2
    assert seen == expected
    assert _values() == list(range(2 * CHECKPOINT_EVERY))
