"""Mail to board users: the confirmation link, replies in followed threads (at once or
as a daily digest), moderators' decisions. Sent through Django's mail backend (the
configured SMTP server); addresses are never logged. Reply notices go out after the
commit, so a rolled-back post sends nothing. The text is in the language in force:
the resident's own when their action sends it, Japanese from the worker."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from machi.tenancy.context import current_lg_code, current_tenant_alias, tenant_context

if TYPE_CHECKING:
    from machi.board.models import BoardUser, Post

log = logging.getLogger(__name__)


def _url(name: str, *args: object) -> str:
    return settings.MACHI_PUBLIC_URL + reverse(name, args=[current_lg_code(), *args])


def _send(subject: str, body: str, to: str) -> None:
    if not to:
        return
    try:
        prefix = _("地域掲示板")
        send_mail(f"[{prefix}] {subject}", body, settings.DEFAULT_FROM_EMAIL, [to])
    except OSError:
        # A mail server that is down must not undo the resident's action; the address
        # stays out of the log.
        log.exception("board mail not sent (%s)", subject)


def send_confirmation(*, user: BoardUser, token: str) -> None:
    link = _url("board:confirm", token)
    _send(
        _("メールアドレスの確認"),
        _(
            "%(name)s さん\n\n地域掲示板への登録を受け付けました。\n"
            "次のリンクを48時間以内に開くと、登録が完了します。\n%(link)s\n\n"
            "心当たりがない場合は、このメールを破棄してください。\n"
        )
        % {"name": user.display_name, "link": link},
        user.email,
    )


def send_already_registered(*, email: str) -> None:
    _send(
        _("登録済みのメールアドレスです"),
        _(
            "このメールアドレスで地域掲示板に登録しようとする操作がありました。\n"
            "このアドレスはすでに登録されています。ログインしてご利用ください。\n"
            "%(link)s\n\n心当たりがない場合は、このメールを破棄してください。\n"
        )
        % {"link": _url("board:signin")},
        email,
    )


def notify_reply_on_commit(*, post: Post) -> None:
    lg_code, alias = current_lg_code(), current_tenant_alias()
    transaction.on_commit(lambda: _in_tenant(lg_code, post.pk), using=alias)


def _in_tenant(lg_code: str, post_id: int) -> None:
    with tenant_context(lg_code):
        notify_reply(post_id=post_id)


def notify_reply(*, post_id: int) -> int:
    """Mail every follower who asked for immediate notices (not the author)."""
    from machi.board.models import BoardUser, Notify, Post, Status

    post = Post.objects.select_related("thread", "author").filter(pk=post_id).first()
    if post is None or post.status != Status.VISIBLE:
        return 0
    followers = BoardUser.objects.filter(
        follows__thread_id=post.thread_id, notify=Notify.IMMEDIATE, confirmed_at__isnull=False,
        deleted_at__isnull=True, blocked_at__isnull=True,
    ).exclude(pk=post.author_id or 0)  # fmt: skip
    author = _("公式") if post.is_official else post.author.shown_name
    link = _url("board:thread", post.thread_id) + f"#post-{post.pk}"
    count = 0
    for user in followers:
        _send(
            _("返信: %(title)s") % {"title": post.thread.title},
            _(
                "%(name)s さん\n\nフォロー中のスレッド「%(title)s」に%(author)s さんが"
                "返信しました。\n%(link)s\n\n通知の設定: %(settings)s\n"
            )
            % {"name": user.display_name, "title": post.thread.title, "author": author,
               "link": link, "settings": _url("board:account")},
            user.email,
        )  # fmt: skip
        count += 1
    return count


def send_digest(*, user: BoardUser, posts: list[Post]) -> None:
    lines = []
    for post in posts:
        author = _("公式") if post.is_official else post.author.shown_name
        link = _url("board:thread", post.thread_id) + f"#post-{post.pk}"
        lines.append(f"・{post.thread.title}（{author}）\n  {link}")
    _send(
        _("フォロー中のスレッドに%(n)d件の返信") % {"n": len(posts)},
        _(
            "%(name)s さん\n\nこの1日の、フォロー中のスレッドへの返信です。\n\n%(lines)s"
            "\n\n通知の設定: %(settings)s\n"
        )
        % {"name": user.display_name, "lines": "\n".join(lines), "settings": _url("board:account")},
        user.email,
    )


_KINDS = {
    "hidden": (
        gettext_lazy("投稿を非表示にしました"),
        gettext_lazy("あなたの投稿をモデレーターが非表示にしました。"),
    ),
    "warned": (
        gettext_lazy("注意のお知らせ"),
        gettext_lazy("あなたの投稿について、モデレーターから注意があります。"),
    ),
    "blocked": (
        gettext_lazy("利用を停止しました"),
        gettext_lazy("あなたのアカウントの利用を停止し、投稿をすべて非表示にしました。"),
    ),
}


def send_moderation(*, user: BoardUser, kind: str, reason: str, post: Post | None = None) -> None:
    subject, text = _KINDS[kind]
    where = ""
    if post:
        link = f"{_url('board:thread', post.thread_id)}#post-{post.pk}"
        where = "\n" + _("対象の投稿: %(link)s") % {"link": link}
    _send(
        str(subject),
        _(
            "%(name)s さん\n\n%(text)s\n理由: %(reason)s%(where)s\n\n"
            "この判断に納得できない場合は、1回だけ申し立てができます。\n%(link)s\n"
        )
        % {"name": user.display_name, "text": text, "reason": reason, "where": where,
           "link": _url("board:account")},
        user.email,
    )  # fmt: skip


def send_appeal_decision(*, user: BoardUser, granted: bool, reason: str) -> None:
    result = _("申し立てを認めました。") if granted else _("申し立てを認めませんでした。")
    _send(
        _("申し立ての結果"),
        _("%(name)s さん\n\n%(result)s\n理由: %(reason)s\n")
        % {"name": user.display_name, "result": result, "reason": reason},
        user.email,
    )
