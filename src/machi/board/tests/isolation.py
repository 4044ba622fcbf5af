"""The board's objects for the isolation test (machi.web.tests.objects): a resident with
a thread in a category of its own, a reply, a reply a moderator hid and its appeal, a
word of the word list, and an unconfirmed registration's confirmation token. All made
through the services; the world's staff member is the moderator."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from machi.tenancy.context import tenant_context

PASSWORD = "kemari-1234-sakura"
_serial = itertools.count(1)


@dataclass(frozen=True)
class BoardObjects:
    user: Any
    category: Any
    thread: Any
    reply: Any
    hidden: Any
    appeal: Any
    word: Any
    token: str  # of a registration not yet confirmed
    newcomer: Any  # its account


def board_objects(staff: Any) -> BoardObjects:
    from machi.board import services

    lg_code = staff.municipality.lg_code
    n = next(_serial)
    user = services.user_create_confirmed(
        email=f"isolation{n}-{lg_code}@example.jp", display_name=f"分離確認{n}", password=PASSWORD
    )
    category = services.category_save(
        actor=staff, code=f"isolation-{lg_code}-{n}", name="分離確認の分類"
    )
    thread = services.thread_create(category=category, title="分離確認", body="本文", user=user)
    reply = services.post_reply(thread=thread, body="返信", user=user)
    hidden = services.post_reply(thread=thread, body="消される返信", user=user)
    services.post_hide(staff=staff, post=hidden, reason="分離確認")
    appeal = services.appeal_create(user=user, post=hidden, text="問題ない内容です。")
    word = services.word_add(staff=staff, word=f"分離確認語{lg_code}-{n}")
    registered = services.user_register(
        email=f"newcomer{n}-{lg_code}@example.jp", display_name="新人", password=PASSWORD
    )
    return BoardObjects(
        user=user, category=category, thread=thread, reply=reply, hidden=hidden, appeal=appeal,
        word=word, token=registered.token, newcomer=registered.user,
    )  # fmt: skip


def clash(avoid: str | None, made: BoardObjects) -> bool:
    """Whether any id of ``made`` names an object of the same kind at ``avoid``."""
    from machi.board.models import Appeal, BoardUser, Post, Thread, Word

    if avoid is None:
        return False
    with tenant_context(avoid):
        return (
            BoardUser.objects.filter(pk__in=[made.user.pk, made.newcomer.pk]).exists()
            or Thread.objects.filter(pk=made.thread.pk).exists()
            or Post.objects.filter(pk__in=[made.reply.pk, made.hidden.pk]).exists()
            or Appeal.objects.filter(pk=made.appeal.pk).exists()
            or Word.objects.filter(pk=made.word.pk).exists()
        )
