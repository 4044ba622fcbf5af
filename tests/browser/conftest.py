"""Browser end-to-end tests: Debian's chromium drives a real `machi runserver`.

The server is a separate process with its own data (a temporary data directory
on SQLite, or the ``machi_e2e_*`` databases on the session's throwaway
PostgreSQL server when MACHI_TEST_DB=postgres), seeded with `machi demo`. These
tests never touch pytest-django's test databases: they only talk HTTP.

Each TOTP code can be used once per device (django-otp refuses a time step at
or before the last one it accepted), so every demo user signs in through the
browser at most once a session: `signed_in_page(username)` keeps the signed-in
cookies and hands out new pages that reuse them.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, expect

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
MACHI = Path(sys.executable).with_name("machi")

DEMO_PASSWORD = "machi-demo-2026"
HOST = "127.0.0.1"
SERVER_START_TIMEOUT = 60.0

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


# --- collection: mark and skip -------------------------------------------------------


def _skip_reason() -> str | None:
    if not CHROMIUM.exists():
        return f"Debian chromium not found at {CHROMIUM} (apt-get install chromium)"
    if not AXE_JS.exists():
        return "run `npm ci` to install axe-core"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _skip_reason()
    for item in items:
        if HERE not in Path(str(item.path)).resolve().parents:
            continue
        item.add_marker(pytest.mark.browser)
        # Under `--dist loadgroup` (./dev test) one xdist worker runs them all: one
        # server seeded once and one browser per session, not one of each per worker.
        item.add_marker(pytest.mark.xdist_group("browser"))
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


# --- pytest-playwright configuration -------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """Browse like the staff do: a Japanese browser (Accept-Language: ja)."""
    return {**browser_context_args, "locale": "ja-JP", "timezone_id": "Asia/Tokyo"}


@pytest.fixture(scope="session")
def base_url(machi_server) -> str:
    """pytest-playwright gives every context this base URL: page.goto("/login/")."""
    return machi_server.url


# --- the server under test -----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class MachiServer:
    env: dict[str, str]
    log_path: Path
    url: str = ""
    process: subprocess.Popen | None = None
    # username -> (key, step, t0, digits) of the confirmed TOTP device
    totp_devices: dict[str, tuple[bytes, int, int, int]] = field(default_factory=dict)
    # username -> last TOTP time step submitted through the browser
    used_steps: dict[str, int] = field(default_factory=dict)

    def machi(self, *args: str, timeout: float = 120) -> str:
        """Run `machi <args>` against this server's databases; return stdout."""
        result = subprocess.run(
            [str(MACHI), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(
                f"machi {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result.stdout

    def load_totp_devices(self) -> None:
        """Read the demo users' TOTP secrets once (one subprocess instead of one per code)."""
        script = (
            "import json\n"
            "from django_otp.plugins.otp_totp.models import TOTPDevice\n"
            "print(json.dumps({d.user.username: [d.key, d.step, d.t0, d.digits]\n"
            "    for d in TOTPDevice.objects.filter(confirmed=True).select_related('user')}))\n"
        )
        out = self.machi("shell", "-c", script)
        devices = json.loads(out.strip().splitlines()[-1])
        self.totp_devices = {
            username: (bytes.fromhex(key), step, t0, digits)
            for username, (key, step, t0, digits) in devices.items()
        }

    def otp_code(self, username: str) -> str:
        """The current TOTP code of a demo user, never one already used for that user.

        If this user's code of the current 30 s window was already submitted,
        wait for the next window (django-otp refuses to accept it twice).
        """
        from django_otp.oath import TOTP

        if username not in self.totp_devices:
            # A device created after the server started: ask `machi otp-code`.
            return self.machi("otp-code", username).strip()
        key, step, t0, digits = self.totp_devices[username]
        totp = TOTP(key, step, t0, digits)
        totp.time = time.time()
        if (last := self.used_steps.get(username)) is not None and totp.t() <= last:
            time.sleep(max(0.0, t0 + (last + 1) * step - time.time() + 0.5))
            totp.time = time.time()
        self.used_steps[username] = totp.t()
        return f"{totp.token():0{digits}d}"


def _wait_until_healthy(process: subprocess.Popen, url: str, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{url}/api/v1/health", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    output = log_path.read_text(errors="replace") if log_path.exists() else ""
    pytest.fail(
        f"machi runserver did not answer {url}/api/v1/health with 200 within "
        f"{SERVER_START_TIMEOUT:.0f} s (exit code {process.returncode}). Output:\n{output}"
    )


def _postgres_server():
    """The session's throwaway PostgreSQL server in the MACHI_TEST_DB=postgres run."""
    from machi.testing import pytest_plugin

    if pytest_plugin._state.get("backend") != "postgres":
        return None
    server = pytest_plugin._state.get("server")
    if server is None:
        pytest.skip(str(pytest_plugin._state.get("skip_reason", "PostgreSQL unavailable")))
    return server


def _postgres_admin(server, sql: str) -> None:
    import psycopg

    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(sql)


E2E_LG_CODES = ("131016", "271403")


@pytest.fixture(scope="session")
def machi_server() -> Iterator[MachiServer]:
    """`machi runserver` on a free loopback port, with freshly migrated demo data."""
    data_dir = Path(tempfile.mkdtemp(prefix="machi-e2e-"))
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"MACHI_DATABASE_URL", "MACHI_TENANT_DATABASE_URL_TEMPLATE"}
    }
    env.update(
        MACHI_DATA_DIR=str(data_dir),
        MACHI_DEBUG="1",
        MACHI_SECRET_KEY="e2e-only-secret-key-" + "y" * 40,
        MACHI_ALLOWED_HOSTS=f"{HOST},localhost",
        DJANGO_SETTINGS_MODULE="machi.settings",
        PYTHONUNBUFFERED="1",
    )
    pg = _postgres_server()
    if pg is not None:
        for name in ("machi_e2e_control", *(f"machi_e2e_{code}" for code in E2E_LG_CODES)):
            _postgres_admin(pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _postgres_admin(pg, 'CREATE DATABASE "machi_e2e_control"')
        env["MACHI_DATABASE_URL"] = pg.url("machi_e2e_control")
        env["MACHI_TENANT_DATABASE_URL_TEMPLATE"] = pg.url("machi_e2e_{lg_code}")

    server = MachiServer(env=env, log_path=data_dir / "runserver.log")
    try:
        server.machi("migrate", "--verbosity", "0")
        server.machi("demo", "--quiet", "--residents", "300")
        server.load_totp_devices()
        server.process, server.url = _start_runserver(env, server.log_path)
        yield server
    finally:
        if server.process is not None:
            _stop(server.process)
        if pg is not None:
            for name in (
                "machi_e2e_control",
                *(f"machi_e2e_{code}" for code in E2E_LG_CODES),
            ):
                _postgres_admin(pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(data_dir, ignore_errors=True)


def _start_runserver(env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    url = f"http://{HOST}:{port}"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(MACHI), "runserver", f"{HOST}:{port}", "--noreload"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    _wait_until_healthy(process, url, log_path)
    return process, url


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def machi_production_server(machi_server) -> Iterator[str]:
    """The same databases served with MACHI_DEBUG=0 (over http): for the real error pages.

    With MACHI_DEBUG=1 Django answers an unknown URL with its technical 404 page,
    not machi's errors/404.html, so the 404 page is checked here. Without DEBUG
    the static files need `collectstatic` (manifest storage).
    """
    env = {**machi_server.env, "MACHI_DEBUG": "0", "MACHI_SSL_REDIRECT": "0"}
    subprocess.run(
        [str(MACHI), "collectstatic", "--noinput", "--verbosity", "0"],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    process, url = _start_runserver(env, machi_server.log_path.with_name("production.log"))
    try:
        yield url
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def otp_code(machi_server) -> Callable[[str], str]:
    """otp_code("chiyoda-clerk") -> the 6-digit code to type now (never a reused one)."""
    return machi_server.otp_code


# --- signing in ----------------------------------------------------------------------


def submit_password(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login/")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="次へ").click()


def submit_otp(page: Page, code: str) -> None:
    page.get_by_label("確認コード（6桁）").fill(code)
    page.get_by_role("button", name="ログイン").click()


def sign_in(page: Page, username: str, otp_code: Callable[[str], str]) -> None:
    """Password, then the TOTP code: lands on the user's start page."""
    submit_password(page, username)
    expect(page).to_have_url(f"{_base(page)}/login/otp/")
    submit_otp(page, otp_code(username))
    expect(page).not_to_have_url(f"{_base(page)}/login/otp/")


def _base(page: Page) -> str:
    parts = urlsplit(page.url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture(scope="session")
def _signed_in_states() -> dict[str, dict]:
    return {}


@pytest.fixture
def signed_in_page(new_context, otp_code, _signed_in_states) -> Callable[[str], Page]:
    """signed_in_page("chiyoda-clerk") -> a page whose context is signed in as that user.

    The first call for a user signs in through the browser; later calls (in any
    test) reuse that session's cookies. Don't log out or switch the language of
    a user that is handed out here.
    """

    def make(username: str) -> Page:
        state = _signed_in_states.get(username)
        context: BrowserContext = new_context(storage_state=state) if state else new_context()
        page = context.new_page()
        if state is None:
            sign_in(page, username, otp_code)
            _signed_in_states[username] = context.storage_state()
        return page

    return make


# --- what a page must not do: CSP violations, requests to other hosts ----------------


@dataclass
class PageWatch:
    """Console CSP violations, page errors and off-host requests seen by one page."""

    csp_violations: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        # Older Chromium says "Refused to apply inline style …", newer "Applying inline
        # style violates the following Content Security Policy directive …".
        text = message.text
        if "Refused to" in text or "Content Security Policy" in text:
            where = message.location.get("url", "")
            self.csp_violations.append(f"{message.type}: {text} (from {where or 'the page'})")

    def on_page_error(self, error: Exception) -> None:
        self.page_errors.append(str(error))

    def on_request(self, request: Request) -> None:
        host = urlsplit(request.url).hostname
        if request.url.startswith(("data:", "blob:", "about:")):
            return
        if host != HOST:
            self.foreign_requests.append(f"{request.method} {request.url}")

    def problems(self) -> list[str]:
        problems = []
        if self.csp_violations:
            problems.append("CSP violations:\n  " + "\n  ".join(self.csp_violations))
        if self.page_errors:
            problems.append("JavaScript errors:\n  " + "\n  ".join(self.page_errors))
        if self.foreign_requests:
            problems.append(
                f"requests to hosts other than {HOST}:\n  " + "\n  ".join(self.foreign_requests)
            )
        return problems

    def assert_clean(self, where: str) -> None:
        problems = self.problems()
        assert not problems, f"{where}:\n" + "\n".join(problems)


def _watch(page: Page) -> PageWatch:
    watcher = PageWatch()
    page.on("console", watcher.on_console)
    page.on("pageerror", watcher.on_page_error)
    page.on("request", watcher.on_request)
    return watcher


@pytest.fixture(scope="session")
def watch() -> Callable[[Page], PageWatch]:
    """watch(page) -> PageWatch: records CSP violations, JS errors and off-host requests."""
    return _watch


# Helpers for the test modules (conftest.py can't be imported by them): as fixtures.


@pytest.fixture(scope="session")
def login_steps():
    """login_steps.password(page, username) / .otp(page, code) / .sign_in(page, username)."""

    class LoginSteps:
        password = staticmethod(submit_password)
        otp = staticmethod(submit_otp)
        sign_in = staticmethod(sign_in)

    return LoginSteps


# --- staff without a second factor ---------------------------------------------------

UNENROLLED_STAFF = ("e2e-enrol", "e2e-enrol-a11y")


@pytest.fixture(scope="session")
def unenrolled_staff(machi_server) -> tuple[str, ...]:
    """Counter clerks of 千代田区 with a password (DEMO_PASSWORD) and no TOTP device yet."""
    script = (
        "from machi.accounts.services import staff_create\n"
        "from machi.tenancy.models import Municipality\n"
        "m = Municipality.objects.get(lg_code='131016')\n"
        f"for username in {UNENROLLED_STAFF!r}:\n"
        "    staff_create(username=username, display_name='登録 待子',\n"
        f"        password={DEMO_PASSWORD!r}, municipality=m,\n"
        "        memberships=[('shimin', 'counter_clerk')])\n"
    )
    machi_server.machi("shell", "-c", script)
    return UNENROLLED_STAFF


# --- axe-core ------------------------------------------------------------------------

# The brief's WCAG 2.0 A/AA, 2.1 AA and 2.2 AA sets, plus WCAG 2.1 A (one criterion,
# 2.5.3 Label in Name, lives only there).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING_IMPACTS = {"serious", "critical"}


@dataclass
class AxeResult:
    violations: list[dict]

    @property
    def blocking(self) -> list[dict]:
        return [v for v in self.violations if v.get("impact") in BLOCKING_IMPACTS]

    @staticmethod
    def describe(violations: list[dict]) -> str:
        lines = []
        for v in violations:
            lines.append(f"- {v['id']} ({v.get('impact')}): {v.get('help')} <{v.get('helpUrl')}>")
            for node in v.get("nodes", [])[:10]:
                lines.append(f"    {node.get('target')}: {node.get('failureSummary', '')!r}")
        return "\n".join(lines)


def _run_axe(page: Page) -> AxeResult:
    """Run axe-core's WCAG 2.x A/AA rules on the page as it is now.

    Rules that axe marks "experimental" but files under these WCAG tags run too
    (they are off by default; label-content-name-mismatch, WCAG 2.5.3 Label in
    Name, is one).

    machi's Content-Security-Policy (script-src 'self' + nonce) blocks the inline
    <script> that page.add_script_tag() inserts, and bypass_csp would switch off
    the CSP this suite checks; so axe's source is evaluated through the DevTools
    protocol (page.evaluate), which the page's CSP does not govern.
    """
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_JS.read_text())
    violations = page.evaluate(
        """async (tags) => {
            const rules = Object.fromEntries(axe.getRules(['experimental'])
                .filter(rule => rule.tags.some(tag => tags.includes(tag)))
                .map(rule => [rule.ruleId, {enabled: true}]));
            const results = await axe.run(document, {runOnly: {type: 'tag', values: tags}, rules});
            return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target, failureSummary: n.failureSummary})),
            }));
        }""",
        AXE_TAGS,
    )
    return AxeResult(violations)


@pytest.fixture(scope="session")
def run_axe() -> Callable[[Page], AxeResult]:
    return _run_axe


# --- page checks: axe-core and the page watcher ---------------------------------------


@pytest.fixture
def check_page(run_axe):
    def check(page: Page, watcher, where: str, *, lang: str = "ja") -> None:
        problems = []
        html_lang = page.evaluate("document.documentElement.getAttribute('lang')")
        if not html_lang:
            problems.append("<html> has no lang attribute")
        elif html_lang != lang:
            problems.append(f"<html lang={html_lang!r}>, expected {lang!r}")
        if (h1_count := page.locator("h1").count()) != 1:
            problems.append(f"{h1_count} <h1> elements, expected exactly one")
        axe = run_axe(page)
        if axe.blocking:
            problems.append(
                "axe-core violations (serious/critical):\n" + axe.describe(axe.blocking)
            )
        if minor := [v for v in axe.violations if v not in axe.blocking]:
            print(f"\n[{where}] axe-core findings below 'serious':\n{axe.describe(minor)}")
        problems += watcher.problems()  # CSP, JavaScript errors, foreign requests
        assert not problems, f"{where} ({page.url}):\n" + "\n".join(problems)

    return check


class PageChecks:
    """axe-core and the page watcher on each page; every finding is kept for the end."""

    def __init__(self, run_axe: Callable, watch: Callable) -> None:
        self.run_axe = run_axe
        self.watch = watch
        self.watchers: dict[int, object] = {}
        self.problems: list[str] = []

    def watched(self, page: Page) -> Page:
        self.watchers[id(page)] = self.watch(page)
        return page

    def check(self, page: Page, where: str) -> None:
        axe = self.run_axe(page)
        if axe.blocking:
            self.problems.append(
                f"{where} ({page.url}): axe-core (serious/critical):\n{axe.describe(axe.blocking)}"
            )
        if minor := [v for v in axe.violations if v not in axe.blocking]:
            print(f"\n[{where}] axe-core findings below 'serious':\n{axe.describe(minor)}")
        watcher = self.watchers[id(page)]
        if found := watcher.problems():
            self.problems.append(f"{where} ({page.url}):\n" + "\n".join(found))
        watcher.csp_violations.clear()  # each finding once
        watcher.page_errors.clear()
        watcher.foreign_requests.clear()

    def assert_clean(self) -> None:
        assert not self.problems, "\n\n".join(self.problems)


@pytest.fixture
def checks(run_axe, watch) -> PageChecks:
    return PageChecks(run_axe, watch)
