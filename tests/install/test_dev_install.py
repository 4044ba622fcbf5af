"""`./dev` brings a venv's installer to the pinned pip before it installs a lock (issue 12).

Each test copies the work tree (what a fresh clone plus one's uncommitted edits would
hold) into a temporary directory and runs `./dev` there, as a new user would. They need
the package index pip is configured with; when it cannot be reached they are skipped
with the reason. They do not use a database, so they run in the SQLite pass only.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PINNED = re.search(r"^pip==(\S+)", (ROOT / "requirements-installer.lock").read_text(), re.M)[1]
# The Python this venv was made from: its ensurepip bundles an older pip (23.2.1 for 3.11.7).
BASE_PYTHON = Path(sys.base_prefix) / "bin" / "python3"
FULL_INSTALL_TIMEOUT = 900
VENV_TIMEOUT = 300

# No database: the PostgreSQL pass of `./dev test` leaves these out (MACHI_TEST_DATABASE_ONLY).
pytestmark = [pytest.mark.install]


@pytest.fixture(scope="module")
def package_index(tmp_path_factory):
    """Skip unless the pinned pip can be fetched through the configured index."""
    target = tmp_path_factory.mktemp("pip-download")
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes",
             "-r", str(ROOT / "requirements-installer.lock"), "-d", str(target)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.skip("package index unreachable: pip download timed out after 120 s")
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"package index unreachable: {last}")


@pytest.fixture
def clone(tmp_path, package_index):
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, capture_output=True, check=True, timeout=60,
        ).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"not a git work tree, nothing to clone: {error}")
    target = tmp_path / "machi"
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def dev(clone: Path, *args: str, timeout: int, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MACHI_", "VIRTUAL_ENV"))}
    clean["PYTHON"] = str(BASE_PYTHON)
    clean.update(env)
    return subprocess.run(
        [str(clone / "dev"), *args],
        cwd=clone, env=clean, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def pip_version(venv: Path) -> str:
    return subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import importlib.metadata as m; print(m.version('pip'))"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()  # fmt: skip


def old_pip_venv(clone: Path) -> Path:
    venv = clone / ".venv"
    subprocess.run([str(BASE_PYTHON), "-m", "venv", str(venv)], check=True, timeout=VENV_TIMEOUT)
    if pip_version(venv) == PINNED:
        pytest.skip(f"{BASE_PYTHON} already ships pip {PINNED}: no older pip to start from")
    return venv


def test_a_venv_with_an_old_pip_gets_the_pinned_one_then_the_lock_installs(clone):
    # A .venv the previous ./dev finished (it marked the lock installed) with its old pip:
    # the pip a new venv gets from Python 3.11, which rejected this lock (issue 12).
    venv = old_pip_venv(clone)
    (venv / ".installed-requirements.lock").touch()
    (venv / "kept").touch()

    result = dev(clone, "install", timeout=FULL_INSTALL_TIMEOUT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Bringing the installer in .venv to pip {PINNED}" in result.stdout
    assert (venv / "kept").exists()  # upgraded in place, not made anew
    assert pip_version(venv) == PINNED
    locked = re.search(r"^fonttools==(\S+)", (clone / "requirements.lock").read_text(), re.M)[1]
    installed = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import importlib.metadata as m, machi, weasyprint; print(m.version('fonttools'))"],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout.strip()  # fmt: skip
    assert installed == locked

    again = dev(clone, "install", timeout=VENV_TIMEOUT)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Installing dependencies" not in again.stdout


def test_without_ensurepip_pip_comes_through_the_index_and_a_half_made_venv_goes(clone):
    # Left by a run that stopped before the installer was in: not to be trusted.
    venv = old_pip_venv(clone)
    (venv / "left-over").touch()

    result = dev(clone, "venv", timeout=VENV_TIMEOUT, MACHI_VENV_WITHOUT_PIP="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Removing .venv: it was not finished" in result.stdout
    assert "through the package index" in result.stdout
    assert f"pip-{PINNED}-py3-none-any.whl from " in result.stdout
    assert not (venv / "left-over").exists()
    assert pip_version(venv) == PINNED
    assert (venv / ".machi-venv").exists()

    # A changed lock is installed again, into the same venv (each lock has its own stamp).
    with (clone / "requirements-installer.lock").open("a") as lock:
        lock.write("# changed\n")
    changed = dev(clone, "venv", timeout=VENV_TIMEOUT)
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert f"Bringing the installer in .venv to pip {PINNED}" in changed.stdout
    assert "Creating the virtual environment" not in changed.stdout


@pytest.mark.parametrize("without_pip", ["0", "1"])
def test_an_installer_failing_its_hash_leaves_no_trusted_venv(clone, without_pip):
    lock = clone / "requirements-installer.lock"
    lock.write_text(re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, lock.read_text()))

    result = dev(clone, "venv", timeout=VENV_TIMEOUT, MACHI_VENV_WITHOUT_PIP=without_pip)
    assert result.returncode == 1
    assert "failed" in result.stderr
    assert "To retry: ./dev venv" in result.stderr
    assert not (clone / ".venv" / ".machi-venv").exists()

    # The next run does not trust what is left: it starts again (and fails the same way).
    retry = dev(clone, "venv", timeout=VENV_TIMEOUT, MACHI_VENV_WITHOUT_PIP=without_pip)
    assert retry.returncode == 1
    assert "Creating the virtual environment" in retry.stdout
