# ruff: noqa: E501 - demo texts, kept one per line to read and edit them as text
"""Demo content of the community board (``machi demo``): the default categories, an
official thread pinned to the top, and residents' threads with replies, written by
demo residents who sign in with the demo password. Idempotent: a municipality whose
board already has the official demo thread is left as it is."""

from __future__ import annotations

import datetime
from importlib import import_module

from django.utils import timezone

from machi.board import services
from machi.board.models import BoardUser, Category, Notify, Thread
from machi.tenancy.context import tenant_context

# (mail address, display name): the demo residents, the same in every demo municipality
# (each municipality's board has its own accounts).
DEMO_RESIDENTS = (
    ("yamada@example.jp", "やまだ"),
    ("sato@example.jp", "佐藤（3児の母）"),
    ("suzuki@example.jp", "鈴木"),
)

OFFICIAL_TITLE = "地域掲示板をはじめました（ご利用のルール）"
OFFICIAL_BODY = """区民のみなさんが、まちの話題や困りごとを話し合える場所です。どなたでも読めます。書き込むにはメールアドレスで登録してください。

## ご利用のルール

- 個人情報（住所、電話番号、顔写真など）は書かないでください。
- 誹謗中傷、差別的な内容、宣伝は書かないでください。
- 問題のある投稿は「通報する」から知らせてください。3人から通報された投稿は、モデレーターが確認するまで非表示になります。

道路や公園の不具合など、区が対応すべきことは、担当課が要望として受け付けることがあります。"""

# (category, title, opening (author, text), replies ((author index or None for 公式, text), ...), days ago)
RESIDENT_THREADS = (
    (
        "kosodate",
        "雨の日に子どもを遊ばせられる場所",
        (
            0,
            "2歳の子がいます。雨の日に室内で遊べる場所を探しています。児童館のほかにおすすめはありますか？",
        ),
        (
            (1, "子育て支援センターのひろばは、予約なしで使えますよ。平日の午前がすいています。"),
            (2, "図書館の読み聞かせ会も毎週水曜日にあります。"),
        ),
        5,
    ),
    (
        "kurashi",
        "駅前通りの街灯が消えています",
        (
            2,
            "駅前通りの郵便局の先、3本目の街灯が1週間ほど消えたままです。夜は暗くて歩くのが怖いです。",
        ),
        (
            (0, "同じ場所、私も気になっていました。"),
            (None, "ご連絡ありがとうございます。道路課に伝え、現地を確認します。"),
        ),
        2,
    ),
)


def _resident(email: str, name: str, password: str, joined: datetime.datetime) -> BoardUser:
    found = BoardUser.objects.filter(email_key=email).first()
    if found is None:
        found = services.user_create_confirmed(
            email=email, display_name=name, password=password, created_at=joined
        )
        # example.jp receives no mail: the demo's replies notify nobody.
        services.user_preferences_set(user=found, display_name=name, notify=Notify.NONE)
    return found


def demo_board_seed(lg_code: str) -> None:
    from machi.accounts.models import Staff
    from machi.accounts.roles import Role
    from machi.web.demo import DEMO_PASSWORD

    # The migration seeded them; a municipality that renamed one keeps its name.
    defaults = import_module("machi.board.migrations.0002_default_categories")

    staff = next(
        (
            s
            for s in Staff.objects.filter(municipality__lg_code=lg_code)
            .order_by("username")
            .prefetch_related("memberships")
            if s.has_role(Role.MODERATOR)
        ),
        None,
    )
    if staff is None:
        return
    with tenant_context(lg_code):
        for order, (code, name, description) in enumerate(defaults.DEFAULT_CATEGORIES):
            if not Category.objects.filter(code=code).exists():
                services.category_save(
                    actor=staff, code=code, name=name, description=description, order=order
                )
        if Thread.objects.filter(is_official=True, title=OFFICIAL_TITLE).exists():
            return
        now = timezone.now()
        joined = now - datetime.timedelta(days=30)
        residents = [_resident(e, n, DEMO_PASSWORD, joined) for e, n in DEMO_RESIDENTS]
        official = services.thread_create(
            category=Category.objects.get(code="chiiki"), title=OFFICIAL_TITLE,
            body=OFFICIAL_BODY, body_format="markdown", staff=staff,
            now=now - datetime.timedelta(days=7),
        )  # fmt: skip
        services.thread_pin(staff=staff, thread=official, pinned=True)
        for code, title, (author, text), replies, days in RESIDENT_THREADS:
            when = now - datetime.timedelta(days=days)
            thread = services.thread_create(
                category=Category.objects.get(code=code), title=title, body=text,
                user=residents[author], now=when,
            )  # fmt: skip
            for n, (by, reply) in enumerate(replies, start=1):
                services.post_reply(
                    thread=thread, body=reply, now=when + datetime.timedelta(hours=3 * n),
                    **({"staff": staff} if by is None else {"user": residents[by]}),
                )  # fmt: skip
