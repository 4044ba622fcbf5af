"""A municipality administrator connects a department system: an API client with its
token, a webhook subscription verified against a real receiver, the operations view.
Every page is checked with axe-core like the others (test_accessibility.py)."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from playwright.sync_api import expect
from standardwebhooks import Webhook

CHIYODA = "131016"


class _Receiver:
    """A webhook receiver on a free port that verifies every signature it gets."""

    def __init__(self) -> None:
        self.secret: str | None = None
        self.received: list[tuple[bool, dict]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                try:
                    event = Webhook(receiver.secret).verify(body, dict(self.headers))
                    receiver.received.append((True, event))
                    self.send_response(204)
                except Exception:  # a wrong signature, or no secret known yet
                    receiver.received.append((False, {}))
                    self.send_response(401)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/machi/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver():
    receiver = _Receiver()
    yield receiver
    receiver.server.shutdown()


def test_api_client_subscription_and_operations_pages(
    signed_in_page, base_url, watch, check_page, receiver
):
    page = signed_in_page("chiyoda-admin")
    watcher = watch(page)

    # --- an API client: the token is shown once -----------------------------------------
    page.goto(f"/{CHIYODA}/home/")
    page.get_by_role("link", name="APIクライアント").first.click()
    expect(page).to_have_url(f"{base_url}/{CHIYODA}/admin/api-clients/")
    check_page(page, watcher, "API clients page")
    page.get_by_label("名称").fill("国保システム（E2E）")
    page.get_by_label(re.compile(r"^イベントの取得")).check()
    page.get_by_role("button", name="登録してトークンを発行").click()
    token = page.get_by_label("トークン", exact=True)
    expect(token).to_have_value(re.compile(r"^machi_[A-Za-z0-9_-]{40,}$"))
    expect(page.get_by_role("cell", name="国保システム（E2E）", exact=True)).to_be_visible()
    check_page(page, watcher, "API clients page (token shown once)")
    page.goto(f"/{CHIYODA}/admin/api-clients/")  # the list again: the token is gone
    expect(page.get_by_role("cell", name="国保システム（E2E）", exact=True)).to_be_visible()
    expect(page.get_by_label("トークン", exact=True)).to_have_count(0)

    # --- a subscription: machi verifies the URL with a signed test event ---------------
    page.get_by_role("link", name="イベント通知の購読").first.click()
    expect(page).to_have_url(f"{base_url}/{CHIYODA}/admin/subscriptions/")
    check_page(page, watcher, "subscriptions page")
    page.get_by_label("名称").fill("国保システム（E2E）")
    page.get_by_label("送信先 URL").fill(receiver.url)
    page.get_by_label("イベント種別").fill("jp.machi.resident.*")
    # The receiver cannot know a generated secret before it is shown: the first attempt
    # is refused (401) and the page says so; with the secret given, it is verified.
    page.get_by_role("button", name="確認して登録").click()
    expect(page.get_by_role("alert")).to_contain_text("購読を登録できませんでした。")
    expect(page.get_by_role("alert")).to_contain_text("401")
    check_page(page, watcher, "subscriptions page (verification refused)")

    receiver.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    page.get_by_label("名称").fill("国保システム（E2E）")
    page.get_by_label("送信先 URL").fill(receiver.url)
    page.get_by_label("イベント種別").fill("jp.machi.resident.*")
    page.get_by_label("署名鍵（任意）").fill(receiver.secret)
    page.get_by_role("button", name="確認して登録").click()
    expect(page.get_by_role("status").first).to_contain_text("を登録しました")
    expect(page.get_by_role("link", name="国保システム（E2E）").first).to_be_visible()
    check_page(page, watcher, "subscriptions page (registered)")
    verified = [event for ok, event in receiver.received if ok]
    assert [event["type"] for event in verified] == ["jp.machi.webhook.verification"]

    page.get_by_role("link", name="国保システム（E2E）").first.click()
    expect(
        page.get_by_role("heading", level=2, name="配信不能（再試行の期限切れ）")
    ).to_be_visible()
    check_page(page, watcher, "subscription page")

    # --- the operations view ------------------------------------------------------------
    page.get_by_role("link", name="連携の運用状況").first.click()
    expect(page).to_have_url(f"{base_url}/{CHIYODA}/admin/linkage/")
    expect(page.get_by_role("cell", name="国保システム（E2E）", exact=True).first).to_be_visible()
    check_page(page, watcher, "linkage operations page")
