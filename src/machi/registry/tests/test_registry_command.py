"""`machi registry import|export|search`, and an import killed with SIGKILL mid-way."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from machi.audit.models import AuditEntry
from machi.audit.services import CLI_TERMINAL
from machi.registry.migration import HEADER
from machi.registry.models import Resident
from machi.registry.tests.test_migration import family, row, to_csv
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

MACHI = Path(sys.executable).with_name("machi")


def command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("registry", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_prints_every_problem_and_writes_nothing(municipality_a, tmp_path):
    rows = family()
    rows[1]["生年月日"] = "平成32年1月1日"
    rows[2]["続柄"] = "孫"
    path = tmp_path / "in.csv"
    path.write_bytes(to_csv(rows, bom=True, newline="\r\n"))
    err = io.StringIO()
    with pytest.raises(CommandError, match="2件の誤り（2行）があるため、何も書き込みませんでした"):
        call_command("registry", "import", "--tenant", "131016", str(path), stderr=err)
    assert err.getvalue().splitlines() == [
        "line 3, column 生年月日: 平成32年はありません（平成は31年まで）",
        "line 4, column 続柄: 続柄「孫」に使えない語があります: 孫",
    ]
    with tenant_context("131016"):
        assert not Resident.objects.exists()


def test_import_skip_invalid_rejects_and_summary(municipality_a, tmp_path):
    rows = family()
    rows[0]["性別"] = "9"
    path = tmp_path / "in.csv"
    path.write_bytes(to_csv(rows))
    rejects = tmp_path / "rejects.csv"
    out, err = command(
        "import", "--tenant", "131016", str(path), "--skip-invalid", "--rejects", str(rejects)
    )
    assert "書き込んだ行: 3（新規 3、更新 0）" in out
    assert "除外した行: 1" in out and "行/秒" in out
    assert err.splitlines() == ["line 2, column 性別: 性別は1（男）か 2（女）です（'9'）"]
    rejected = list(csv.reader(rejects.open(encoding="utf-8")))
    assert rejected[0][-1] == "取込エラー" and rejected[1][0] == "1000001"
    assert oct(rejects.stat().st_mode & 0o777) == "0o600"


def test_import_with_gaiji_map_and_update(municipality_a, tmp_path):
    gaiji = tmp_path / "map.csv"
    gaiji.write_text("code,char,evidence\nU+E001,髙,戸籍\n", encoding="utf-8")
    path = tmp_path / "in.csv"
    path.write_bytes(to_csv([row(**{"氏名": "\ue001橋 太郎"})]))
    with pytest.raises(CommandError):
        command("import", "--tenant", "131016", str(path))
    out, _ = command("import", "--tenant", "131016", str(path), "--gaiji-map", str(gaiji))
    assert "外字の置換: 1" in out
    path.write_bytes(to_csv([row(**{"氏名": "\ue001橋 太郎", "住所_番地": "9-9"})]))
    out, _ = command(
        "import", "--tenant", "131016", str(path), "--gaiji-map", str(gaiji), "--update"
    )
    assert "更新 1" in out
    bad_map = tmp_path / "bad.csv"
    bad_map.write_text("code,char,evidence\nE001,髙,x\n", encoding="utf-8")
    with pytest.raises(CommandError, match="1件の誤り"):
        command("import", "--tenant", "131016", str(path), "--gaiji-map", str(bad_map))


def test_export_command_with_jis0208(municipality_a, tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(to_csv([row(**{"氏名": "𠮷田 太郎", "個人番号": "123456789018"})]))
    command("import", "--tenant", "131016", str(path))
    target = tmp_path / "out.csv"
    out, _ = command("export", "--tenant", "131016", str(target), "--jis0208")
    assert "line 2, column 氏名: 𠮷（U+20BB7）→ 吉" in out
    assert "個人番号 1件を平文で含みます" in out
    data = target.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    assert data.startswith(",".join(HEADER).encode() + b"\r\n")
    assert "吉田 太郎" in data.decode()
    assert oct(target.stat().st_mode & 0o777) == "0o600"


def test_search_json_is_audited(municipality_a, tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(to_csv(family()))
    command("import", "--tenant", "131016", str(path))
    out, _ = command(
        "search", "--tenant", "131016", "--query", "やまだ", "--birth", "平成3年", "--json"
    )
    hits = [json.loads(line) for line in out.splitlines()]
    assert hits == [
        {
            "atena_number": "1000003",
            "name": "山田 一郎",
            "kana": "ヤマダ\u3000イチロウ",
            "birth_date": "平成3年2月30日",
            "address": "東京都千代田区千代田1-1",
            "status": "1",
            "match": "kana",
        }
    ]
    with tenant_context("131016"):
        entry = AuditEntry.objects.filter(action="resident.searched").get()
        assert entry.actor_id is None
        assert entry.user_agent == CLI_TERMINAL.user_agent
        assert entry.detail == {"terms": {"query": "やまだ", "birth": "平成3年"}, "hits": 1}
    out, _ = command("search", "--tenant", "131016", "--query", "山田", "--limit", "2")
    assert len(out.splitlines()) == 2
    with pytest.raises(CommandError, match="平成32年"):
        command("search", "--tenant", "131016", "--query", "山田", "--birth", "平成32年")
    with pytest.raises(CommandError, match="--query"):
        command("search", "--tenant", "131016")


def test_unknown_tenant_and_missing_file(municipality_a, tmp_path):
    with pytest.raises(CommandError, match="登録されていません"):
        command("search", "--tenant", "011002", "--query", "山田")
    with pytest.raises(CommandError, match="ありません"):
        command("import", "--tenant", "131016", str(tmp_path / "none.csv"))


# ---------------------------------------------------------------- kill -9


def _postgres_server():
    from machi.testing import pytest_plugin

    if pytest_plugin._state.get("backend") != "postgres":
        return None
    return pytest_plugin._state.get("server")


def _pg_admin(server, sql: str) -> None:
    import psycopg

    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(sql)


def _counts(env: dict[str, str]) -> dict[str, int]:
    script = (
        "import json\n"
        "from machi.tenancy.context import tenant_context\n"
        "from machi.registry.models import Household, Resident, ResidentHistory, ResidentKey\n"
        "from machi.linkage.models import OutboxEvent\n"
        "from machi.audit.models import AuditEntry\n"
        "with tenant_context('131016'):\n"
        "    print(json.dumps({m.__name__: m.objects.count() for m in (Household, Resident,\n"
        "        ResidentHistory, ResidentKey, OutboxEvent, AuditEntry)}))\n"
    )
    result = subprocess.run(
        [str(MACHI), "shell", "-c", script], env=env, capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def _processes_reading(path: Path) -> list[int]:
    """PIDs whose command line names ``path`` (a forked reader keeps its parent's)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if str(path).encode() in cmdline:
            found.append(int(entry.name))
    return found


def test_an_import_killed_mid_way_leaves_the_municipality_unchanged(tmp_path):
    """`machi registry import` in its own process, SIGKILLed after it started writing."""
    from machi.registry.synthetic import COLUMNS, generate_rows

    data_dir = Path(tempfile.mkdtemp(prefix="machi-kill-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"MACHI_DATABASE_URL", "MACHI_TENANT_DATABASE_URL_TEMPLATE"}
    }
    env.update(
        MACHI_DATA_DIR=str(data_dir),
        MACHI_SECRET_KEY="kill-test-secret-key-" + "z" * 40,
        DJANGO_SETTINGS_MODULE="machi.settings",
        PYTHONUNBUFFERED="1",
    )
    pg = _postgres_server()
    names = ("machi_kill_control", "machi_kill_131016")
    if pg is not None:
        for name in names:
            _pg_admin(pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _pg_admin(pg, 'CREATE DATABASE "machi_kill_control"')
        env["MACHI_DATABASE_URL"] = pg.url("machi_kill_control")
        env["MACHI_TENANT_DATABASE_URL_TEMPLATE"] = pg.url("machi_kill_{lg_code}")
    try:

        def machi(*args: str) -> None:
            subprocess.run([str(MACHI), *args], env=env, check=True, capture_output=True,
                           timeout=300)  # fmt: skip

        machi("migrate", "--verbosity", "0")
        machi("tenant", "create", "--code", "131016", "--name", "千代田区")
        small = data_dir / "small.csv"
        small.write_bytes(to_csv(family()))
        machi("registry", "import", "--tenant", "131016", str(small))
        before = _counts(env)
        assert before["Resident"] == 4

        big = data_dir / "big.csv"
        with big.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            for values in generate_rows(count=150_000, lg_code="131016", seed=7):
                writer.writerow([values[c] for c in COLUMNS])
        process = subprocess.Popen(
            [str(MACHI), "registry", "-v", "2", "import", "--tenant", "131016", str(big)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        written = 0
        deadline = time.monotonic() + 240
        while written < 2 and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            if "行を書き込みました" in line:
                written += 1
        assert written == 2, "the import never reported writing"
        time.sleep(0.5)  # the writer is busy with the next batches
        assert process.poll() is None, "the import finished before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        process.stdout.close()
        assert process.returncode == -signal.SIGKILL
        # The forked reader (same command line) notices its parent is gone and exits.
        deadline = time.monotonic() + 20
        while _processes_reading(big) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _processes_reading(big), "a reader process outlived the killed import"
        assert _counts(env) == before
        machi("audit", "verify", "--tenant", "131016")
    finally:
        if pg is not None:
            for name in names:
                _pg_admin(pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(data_dir, ignore_errors=True)
