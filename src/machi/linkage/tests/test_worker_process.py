"""`machi linkage worker` as real processes: SIGKILLed mid-delivery, nothing is lost;
two at once, each event is sent once, in order per subject.

The worker runs against its own databases (a fresh data directory, or fresh PostgreSQL
databases on the test server) so that it sees committed data, exactly as in production.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machi.linkage.tests.receiver import Receiver, in_order_per_subject
from machi.linkage.webhooks import VERIFICATION_TYPE, secret_generate

MACHI = Path(sys.executable).with_name("machi")
EVENTS = 300


def _postgres_server():
    from machi.testing import pytest_plugin

    if pytest_plugin._state.get("backend") != "postgres":
        return None
    return pytest_plugin._state.get("server")


def _pg_admin(server, sql: str) -> None:
    import psycopg

    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(sql)


APPEND = """
from django.db import transaction
from machi.linkage.services import outbox_append
from machi.tenancy.context import tenant_context
with tenant_context('131016'):
    for n in range({count}):
        with transaction.atomic(using='tenant_131016'):
            outbox_append(type='jp.machi.resident.moved_in', subject=f'R{{n % 9}}', data={{'n': n}})
"""


def _wait_for(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _run(scenario) -> None:
    """Set up a platform in its own databases, a receiver and a subscription; then run
    ``scenario(machi, start_worker, delivered, receiver, log, log_path)``."""
    data_dir = Path(tempfile.mkdtemp(prefix="machi-webhook-kill-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"MACHI_DATABASE_URL", "MACHI_TENANT_DATABASE_URL_TEMPLATE"}
    }
    env.update(
        MACHI_DATA_DIR=str(data_dir),
        MACHI_SECRET_KEY="webhook-kill-secret-key-" + "w" * 40,
        DJANGO_SETTINGS_MODULE="machi.settings",
        PYTHONUNBUFFERED="1",
    )
    pg = _postgres_server()
    names = ("machi_whkill_control", "machi_whkill_131016")
    if pg is not None:
        for name in names:
            _pg_admin(pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _pg_admin(pg, 'CREATE DATABASE "machi_whkill_control"')
        env["MACHI_DATABASE_URL"] = pg.url("machi_whkill_control")
        env["MACHI_TENANT_DATABASE_URL_TEMPLATE"] = pg.url("machi_whkill_{lg_code}")
    receiver = Receiver(secret=secret_generate(), delay=0.02).start()
    workers: list[subprocess.Popen] = []
    log = (data_dir / "worker.log").open("w")

    def machi(*args: str) -> str:
        return subprocess.run(
            [str(MACHI), *args], env=env, check=True, capture_output=True, text=True,
            timeout=300,
        ).stdout  # fmt: skip

    def start_worker() -> subprocess.Popen:
        process = subprocess.Popen(
            [str(MACHI), "linkage", "worker", "--timeout", "1", "--poll", "0.05",
             "--threads", "4", "--report", "1"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        workers.append(process)
        return process

    def delivered() -> list:
        return [r for r in receiver.unique() if r.event["type"] != VERIFICATION_TYPE]

    try:
        machi("migrate", "--verbosity", "0")
        machi("tenant", "create", "--code", "131016", "--name", "千代田区")
        machi(
            "subscription", "create", "--tenant", "131016", "--url", receiver.url,
            "--types", "jp.machi.resident.*", "--secret", receiver.secret,
        )  # fmt: skip
        scenario(machi, start_worker, delivered, receiver, log, data_dir / "worker.log")
    except AssertionError:
        log.flush()
        print((data_dir / "worker.log").read_text()[-5000:])
        raise
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
        receiver.stop()
        log.close()
        if pg is not None:
            for name in names:
                _pg_admin(pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(data_dir, ignore_errors=True)


def _finished(machi, delivered, receiver) -> list:
    got = delivered()
    assert len(got) == EVENTS
    assert sorted(r.event["sequence"] for r in got) == list(range(1, EVENTS + 1))
    assert in_order_per_subject(got)
    assert receiver.bad_signatures == 0
    status = json.loads(machi("linkage", "status", "--tenant", "131016", "--json"))
    (row,) = status["131016"]
    assert (row["lag_events"], row["pending"], row["dead"]) == (0, 0, 0)
    return got


def test_a_worker_killed_mid_delivery_loses_nothing():
    def scenario(machi, start_worker, delivered, receiver, log, log_path):
        machi("shell", "-c", APPEND.format(count=EVENTS))
        first = start_worker()
        _wait_for(lambda: len(delivered()) >= 60, timeout=120, what="first deliveries")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        assert first.returncode == -signal.SIGKILL
        assert len(delivered()) < EVENTS, "everything was delivered before the kill"

        second = start_worker()
        _wait_for(lambda: len(delivered()) >= EVENTS, timeout=180, what="the rest")
        second.send_signal(signal.SIGTERM)  # a graceful stop
        second.wait(timeout=30)
        assert second.returncode == 0
        _finished(machi, delivered, receiver)

    _run(scenario)


def test_two_workers_at_once_send_each_event_once_in_order():
    def scenario(machi, start_worker, delivered, receiver, log, log_path):
        workers = [start_worker(), start_worker()]
        time.sleep(3)  # both polling while the events are committed
        machi("shell", "-c", APPEND.format(count=EVENTS))
        _wait_for(lambda: len(delivered()) >= EVENTS, timeout=180, what="every event")
        time.sleep(1)  # a double send would arrive by now
        for process in workers:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
            assert process.returncode == 0
        _finished(machi, delivered, receiver)
        assert len(receiver.processed) == EVENTS + 1  # + the verification event: no doubles
        log.flush()
        shares = [
            int(m) for m in re.findall(r"worker stopped: delivered (\d+)", log_path.read_text())
        ]
        assert len(shares) == 2 and sum(shares) == EVENTS
        assert min(shares) > 0, f"one worker did all the work: {shares}"  # not vacuous

    _run(scenario)
