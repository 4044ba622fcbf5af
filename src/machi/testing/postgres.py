"""A throwaway PostgreSQL server for the test suite (and benchmarks).

initdb and postgres refuse to run as root, so as root the server runs as the
``postgres`` user (or ``nobody``) through runuser.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be started for the tests (the reason says why)."""


class PostgresNotInstalled(PostgresUnavailable):
    """The PostgreSQL server binaries are not installed (the reason says what to install)."""


def _find_bindir() -> Path:
    # MACHI_PG_BINDIR: a PostgreSQL installed elsewhere; then nothing else is looked at.
    if explicit := os.environ.get("MACHI_PG_BINDIR"):
        bindir = Path(explicit)
        if (bindir / "initdb").exists() and (bindir / "postgres").exists():
            return bindir
        raise PostgresNotInstalled(f"MACHI_PG_BINDIR={explicit} has no initdb and postgres")
    candidates = []
    if found := shutil.which("pg_ctl"):
        candidates.append(Path(found).resolve().parent)
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "postgres").exists():
            return bindir
    raise PostgresNotInstalled(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; "
        "install them with `apt-get install postgresql`"
    )


def utf8_ctype() -> str | None:
    """A UTF-8 locale of this system for LC_CTYPE (C.UTF-8 first: it has no language
    rules), or None when there is none (``locale -a``)."""
    try:
        command = ["locale", "-a"]
        done = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
        listed = done.stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return None
    by_key = {name.lower().replace("-", ""): name for name in listed}
    for wanted in ("c.utf8", "en_us.utf8", "ja_jp.utf8"):
        if wanted in by_key:
            return by_key[wanted]
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    bindir: Path
    root: Path
    port: int
    run_as: str | None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def url(self, dbname: str) -> str:
        return f"postgres://machi@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603

    def start(self) -> None:
        # Sorting stays C (byte order, as before); the character classes must know
        # UTF-8, or pg_trgm takes every kanji and kana for a separator and extracts no
        # trigram from Japanese (its GIN indexes then match nothing useful).
        ctype = utf8_ctype()
        locale = ["--no-locale", f"--lc-ctype={ctype}"] if ctype else ["--no-locale"]
        self._run("initdb", "-D", str(self.data_dir), "-U", "machi", "-A", "trust", "-E", "UTF8",
                  *locale, "--no-sync")  # fmt: skip
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data_dir), "-o", options, "-l",
                  str(self.root / "server.log"), "-w", "-t", "60", "start")  # fmt: skip

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def start_server() -> PostgresServer:
    """Start a fresh server on a free loopback port; the caller stops it."""
    bindir = _find_bindir()
    root = Path(tempfile.mkdtemp(prefix="machi-pg-"))
    run_as = None
    if os.geteuid() == 0:
        for name in ("postgres", "nobody"):
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                continue
            run_as = name
            os.chown(root, entry.pw_uid, entry.pw_gid)
            break
        else:
            raise PostgresUnavailable("running as root and no 'postgres' user to run the server")
    server = PostgresServer(bindir=bindir, root=root, port=_free_port(), run_as=run_as)
    try:
        server.start()
    except subprocess.CalledProcessError as error:
        log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
        server.stop()
        raise PostgresUnavailable(
            f"PostgreSQL did not start: {error.stderr or error.stdout}\n{log}"
        ) from error
    return server
