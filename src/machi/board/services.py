"""Every write of the community board.

Board users are residents with an account of this board only: they are not staff
(``machi.accounts``), hold no role and see nothing of the registry. Moderation follows
Decidim and Consul: a report carries a reason; a post that reports from the
municipality's threshold of *distinct* users (default 3) name is hidden at once and
waits in the moderators' queue; moderators hide, unhide, warn and block, always with a
reason that is logged (:class:`ModerationLog`) and audited; the author may appeal once.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from machi.audit.services import CLI_TERMINAL, Terminal, audit_append
from machi.board import mail
from machi.board.models import (
    Appeal,
    BoardSettings,
    BoardUser,
    BodyFormat,
    Category,
    Follow,
    ModerationLog,
    Notify,
    Post,
    Reaction,
    Report,
    ResidenceCode,
    SignInFailure,
    Status,
    Thread,
    Word,
)
from machi.tenancy.context import current_tenant_alias

CONFIRM_VALID = datetime.timedelta(hours=48)
RESIDENCE_CODE_VALID = datetime.timedelta(days=3)
SIGN_IN_WINDOW = datetime.timedelta(minutes=15)
SIGN_IN_FAILURES = 5  # per address and per mail address in the window
# No 0/O, 1/I: the code is read off a slip of paper and typed in.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
MAX_TITLE = 120
MAX_BODY = 8000
MAX_REASON = 1000

# Lazy: shown in the reader's language, not in the one in force when the module loaded.
REPORT_REASONS = {
    "spam": gettext_lazy("宣伝・スパム"),
    "offensive": gettext_lazy("誹謗中傷・差別的な内容"),
    "privacy": gettext_lazy("個人情報が書かれている"),
    "illegal": gettext_lazy("違法・危険な内容"),
    "other": gettext_lazy("その他"),
}


class BoardError(ValidationError):
    """Bad input or an action not allowed: the message says why; nothing was changed."""


class RateLimited(BoardError):
    """Too many posts or failed sign-ins in the window (HTTP 429)."""


def _atomic() -> Any:
    return transaction.atomic(using=current_tenant_alias())


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _key(value: str) -> str:
    return salted_hmac("machi.board.signin", value, algorithm="sha256").hexdigest()


def settings_get() -> BoardSettings:
    found = BoardSettings.objects.filter(pk=1).first()
    return found or BoardSettings.objects.get_or_create(pk=1)[0]


def settings_update(
    *, actor: Any, report_threshold: int, new_account_posts_per_hour: int,
    posts_per_minute: int, posts_per_hour: int,
) -> BoardSettings:  # fmt: skip
    for value, low, high, label in (
        (report_threshold, 1, 50, _("自動非表示にする通報者の数")),
        (new_account_posts_per_hour, 1, 100, _("新規アカウントの1時間あたりの投稿数")),
        (posts_per_minute, 1, 60, _("1分あたりの投稿数の上限")),
        (posts_per_hour, 1, 1000, _("1時間あたりの投稿数の上限")),
    ):
        if not isinstance(value, int) or not low <= value <= high:
            raise BoardError(
                _("%(label)sは%(low)d〜%(high)dで指定してください。")
                % {"label": label, "low": low, "high": high}
            )
    with _atomic():
        row = settings_get()
        row.report_threshold = report_threshold
        row.new_account_posts_per_hour = new_account_posts_per_hour
        row.posts_per_minute = posts_per_minute
        row.posts_per_hour = posts_per_hour
        row.save()
        audit_append(
            action="board.settings.updated", actor=actor, object_type="board_settings",
            object_id="1", function="board",
            detail={"report_threshold": report_threshold, "posts_per_minute": posts_per_minute,
                    "posts_per_hour": posts_per_hour,
                    "new_account_posts_per_hour": new_account_posts_per_hour},
        )  # fmt: skip
    return row


# --- accounts -------------------------------------------------------------------------------


def _clean_name(display_name: str) -> str:
    name = (display_name or "").strip()
    if not name:
        raise BoardError(_("表示名を入力してください。"))
    if len(name) > 40:
        raise BoardError(_("表示名は40文字以内で入力してください。"))
    if name == str(_("退会したユーザー")) or "公式" in name:
        raise BoardError(_("この表示名は使えません。"))
    return name


@dataclass(frozen=True)
class Registered:
    user: BoardUser
    token: str  # goes out in the confirmation mail only


def user_register(
    *, email: str, display_name: str, password: str, now: datetime.datetime | None = None
) -> Registered | None:
    """Register (or re-register an unconfirmed address) and mail the confirmation link.

    An address that already has a confirmed account gets a mail saying so and None is
    returned; the page says the same in both cases, so the form does not tell a stranger
    which addresses have accounts."""
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise BoardError(_("メールアドレスが正しくありません。")) from exc
    name = _clean_name(display_name)
    try:
        validate_password(password)
    except ValidationError as exc:
        raise BoardError(exc.messages) from exc
    now = now or timezone.now()
    key = email.lower()
    with _atomic():
        user = BoardUser.objects.select_for_update().filter(email_key=key).first()
        if user is not None and user.confirmed_at is not None:
            mail.send_already_registered(email=user.email)
            return None
        token = secrets.token_urlsafe(32)
        if user is None:
            user = BoardUser(email_key=key, created_at=now)
        user.email = email
        user.display_name = name
        user.password = make_password(password)
        user.confirm_token_hash = _hash(token)
        user.created_at = now
        user.save()
        mail.send_confirmation(user=user, token=token)
    return Registered(user=user, token=token)


def user_confirm(*, token: str, now: datetime.datetime | None = None) -> BoardUser | None:
    """The link of the confirmation mail: the account becomes usable (None: unknown or
    expired link)."""
    now = now or timezone.now()
    if not token:
        return None
    with _atomic():
        user = (
            BoardUser.objects.select_for_update()
            .filter(confirm_token_hash=_hash(token), deleted_at__isnull=True)
            .first()
        )
        if user is None or now - user.created_at > CONFIRM_VALID:
            return None
        user.confirmed_at = user.confirmed_at or now
        user.confirm_token_hash = ""
        user.save(update_fields=["confirmed_at", "confirm_token_hash"])
    return user


def user_authenticate(
    *, email: str, password: str, address: str, now: datetime.datetime | None = None
) -> BoardUser:
    """Check a sign-in. Failures are counted per client address and per mail address
    (keyed hashes, in the database) and past :data:`SIGN_IN_FAILURES` in
    :data:`SIGN_IN_WINDOW` every attempt is refused, right or wrong."""
    now = now or timezone.now()
    key = (email or "").strip().lower()
    keys = [_key("ip:" + (address or "")), _key("mail:" + key)]
    since = now - SIGN_IN_WINDOW
    SignInFailure.objects.filter(at__lt=now - 4 * SIGN_IN_WINDOW).delete()
    for k in keys:
        if SignInFailure.objects.filter(key=k, at__gte=since).count() >= SIGN_IN_FAILURES:
            raise RateLimited(
                _(
                    "ログインの失敗が続いたため、しばらくログインできません。15分ほどしてからお試しください。"
                )
            )
    user = BoardUser.objects.filter(email_key=key, deleted_at__isnull=True).first() if key else None
    # Check a password even without an account, so the time taken does not tell.
    ok = check_password(password or "", user.password if user else make_password(None))
    if user is None or not ok:
        SignInFailure.objects.bulk_create([SignInFailure(key=k, at=now) for k in keys])
        raise BoardError(_("メールアドレスまたはパスワードが違います。"))
    if user.confirmed_at is None:
        raise BoardError(
            _("メールアドレスの確認がまだです。届いたメールのリンクを開いてください。")
        )
    SignInFailure.objects.filter(key=keys[1]).delete()
    return user


def user_create_confirmed(
    *, email: str, display_name: str, password: str, created_at: datetime.datetime | None = None
) -> BoardUser:
    """An account made by the operator (``machi board user-create``, the demo) with the
    address taken as confirmed: no mail goes out. An address that has an account is
    refused."""
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise BoardError(_("メールアドレスが正しくありません。")) from exc
    name = _clean_name(display_name)
    try:
        validate_password(password)
    except ValidationError as exc:
        raise BoardError(exc.messages) from exc
    now = timezone.now()
    with _atomic():
        if BoardUser.objects.filter(email_key=email.lower()).exists():
            raise BoardError(_("このメールアドレスはすでに登録されています。"))
        user = BoardUser.objects.create(
            email=email, email_key=email.lower(), display_name=name,
            password=make_password(password), created_at=created_at or now, confirmed_at=now,
        )  # fmt: skip
        audit_append(
            action="board.user.created", object_type="board_user", object_id=str(user.pk),
            function="board", terminal=CLI_TERMINAL,
        )  # fmt: skip
    return user


def user_preferences_set(*, user: BoardUser, display_name: str, notify: str) -> BoardUser:
    if notify not in Notify.values:
        raise BoardError(_("通知の方法を選んでください。"))
    user.display_name = _clean_name(display_name)
    if notify == Notify.DAILY and user.notify != Notify.DAILY:
        user.digest_sent_at = timezone.now()  # the first digest starts from the switch
    user.notify = notify
    user.save(update_fields=["display_name", "notify", "digest_sent_at"])
    return user


def residence_code_issue(
    *, actor: Any, terminal: Terminal | None = None, now: datetime.datetime | None = None
) -> str:
    """A one-time code for the resident the clerk has just identified at the counter.
    The code is not tied to the resident's record: the board learns only that a clerk
    vouched for the person who enters it."""
    now = now or timezone.now()
    code = "-".join("".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(3))
    with _atomic():
        row = ResidenceCode.objects.create(
            code_hash=_hash(code), issued_by=getattr(actor, "username", ""), issued_at=now,
            expires_at=now + RESIDENCE_CODE_VALID,
        )  # fmt: skip
        audit_append(
            action="board.residence_code.issued", actor=actor, object_type="board_residence_code",
            object_id=str(row.pk), function="board", terminal=terminal,
            detail={"expires_at": row.expires_at.isoformat()},
        )  # fmt: skip
    return code


def residence_code_redeem(
    *, user: BoardUser, code: str, now: datetime.datetime | None = None
) -> BoardUser:
    now = now or timezone.now()
    normalised = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    normalised = "-".join(normalised[i : i + 4] for i in range(0, len(normalised), 4))
    with _atomic():
        row = ResidenceCode.objects.select_for_update().filter(code_hash=_hash(normalised)).first()
        if row is None or row.used_at is not None or row.expires_at <= now:
            raise BoardError(_("確認コードが正しくないか、期限が切れているか、使用済みです。"))
        row.used_at = now
        row.used_by = user
        row.save(update_fields=["used_at", "used_by"])
        user.resident_verified_at = now
        user.save(update_fields=["resident_verified_at"])
        audit_append(
            action="board.residence_code.used", object_type="board_residence_code",
            object_id=str(row.pk), function="board", detail={"board_user": user.pk},
        )  # fmt: skip
    return user


def user_export(*, user: BoardUser) -> dict[str, Any]:
    """Everything the board holds about the user, as JSON-ready data."""

    def when(value: datetime.datetime | None) -> str | None:
        return value.isoformat() if value else None

    posts = Post.objects.filter(author=user).select_related("thread").order_by("pk")
    return {
        "account": {
            "id": user.pk, "email": user.email, "display_name": user.display_name,
            "created_at": when(user.created_at), "confirmed_at": when(user.confirmed_at),
            "resident_verified": user.resident_verified_at is not None,
            "notify": user.notify, "warnings": user.warnings,
            "blocked_at": when(user.blocked_at), "block_reason": user.block_reason,
        },
        "posts": [
            {"id": p.pk, "thread_id": p.thread_id, "thread_title": p.thread.title,
             "opening": p.is_opening, "body": p.body, "format": p.body_format,
             "status": p.status, "created_at": when(p.created_at)}
            for p in posts
        ],
        "reactions": [
            {"post_id": r.post_id, "created_at": when(r.created_at)}
            for r in Reaction.objects.filter(user=user).order_by("pk")
        ],
        "follows": [
            {"thread_id": f.thread_id, "created_at": when(f.created_at)}
            for f in Follow.objects.filter(user=user).order_by("pk")
        ],
        "reports": [
            {"post_id": r.post_id, "reason": r.reason, "created_at": when(r.created_at)}
            for r in Report.objects.filter(reporter=user).order_by("pk")
        ],
        "appeals": [
            {"post_id": a.post_id, "text": a.text, "created_at": when(a.created_at),
             "decision": a.decision}
            for a in Appeal.objects.filter(user=user).order_by("pk")
        ],
    }  # fmt: skip


def user_delete(*, user: BoardUser, now: datetime.datetime | None = None) -> None:
    """The resident leaves: mail address, name and password are erased, follows and
    reactions go; posts stay (a conversation keeps its replies) under 「退会したユーザー」."""
    now = now or timezone.now()
    with _atomic():
        Follow.objects.filter(user=user).delete()
        Reaction.objects.filter(user=user).delete()
        user.email = ""
        user.email_key = ""
        user.display_name = ""
        user.password = ""
        user.confirm_token_hash = ""
        user.notify = Notify.NONE
        user.deleted_at = now
        user.save()
        audit_append(
            action="board.user.deleted", object_type="board_user", object_id=str(user.pk),
            function="board",
        )  # fmt: skip


# --- posting --------------------------------------------------------------------------------


def _clean_body(body: str, body_format: str) -> tuple[str, str]:
    body = (body or "").strip()
    if not body:
        raise BoardError(_("本文を入力してください。"))
    if len(body) > MAX_BODY:
        raise BoardError(_("本文は%(n)d文字以内で入力してください。") % {"n": MAX_BODY})
    if body_format not in BodyFormat.values:
        raise BoardError(_("本文の形式を選んでください。"))
    return body, body_format


def _may_post(user: BoardUser, now: datetime.datetime) -> None:
    """Active, not blocked, within the rate limits (counted from the posts themselves, so
    they hold across workers and restarts)."""
    if not user.is_active:
        raise BoardError(_("投稿するにはログインしてください。"))
    if user.is_blocked:
        raise BoardError(_("このアカウントは利用を停止されています。"))
    limits = settings_get()
    mine = Post.objects.filter(author=user)
    if mine.filter(created_at__gt=now - datetime.timedelta(minutes=1)).count() >= (
        limits.posts_per_minute
    ):
        raise RateLimited(_("短い時間に投稿が続いています。しばらくしてから投稿してください。"))
    hourly = limits.posts_per_hour
    if now - user.created_at < datetime.timedelta(hours=limits.new_account_hours):
        hourly = min(hourly, limits.new_account_posts_per_hour)
    if mine.filter(created_at__gt=now - datetime.timedelta(hours=1)).count() >= hourly:
        raise RateLimited(
            _("1時間に投稿できる数を超えました。登録から間もないアカウントは投稿数が制限されます。")
        )


def held_words(text: str) -> list[str]:
    lowered = (text or "").lower()
    return [w for w in Word.objects.values_list("word", flat=True) if w.lower() in lowered]


def _new_post(
    *, thread: Thread, author: BoardUser | None, body: str, body_format: str, opening: bool,
    staff: Any | None, now: datetime.datetime, extra_text: str = "",
) -> Post:  # fmt: skip
    held = staff is None and bool(held_words(extra_text + "\n" + body))
    return Post.objects.create(
        thread=thread, author=author, body=body, body_format=body_format, is_opening=opening,
        is_official=staff is not None, staff_username=getattr(staff, "username", ""),
        status=Status.HELD if held else Status.VISIBLE, status_reason="words" if held else "",
        created_at=now,
    )  # fmt: skip


def thread_create(
    *, category: Category, title: str, body: str, body_format: str = BodyFormat.PLAIN,
    user: BoardUser | None = None, staff: Any | None = None,
    now: datetime.datetime | None = None,
) -> Thread:  # fmt: skip
    """A new thread by a board user, or by staff as the municipality (公式: ``staff``)."""
    now = now or timezone.now()
    title = (title or "").strip()
    if not title:
        raise BoardError(_("題名を入力してください。"))
    if len(title) > MAX_TITLE:
        raise BoardError(_("題名は%(n)d文字以内で入力してください。") % {"n": MAX_TITLE})
    body, body_format = _clean_body(body, body_format)
    if (user is None) == (staff is None):
        raise BoardError(_("投稿者がわかりません。"))
    with _atomic():
        if user is not None:
            user = BoardUser.objects.select_for_update().get(pk=user.pk)
            _may_post(user, now)
        thread = Thread.objects.create(
            category=category, title=title, author=user, is_official=staff is not None,
            created_at=now, last_post_at=now,
        )  # fmt: skip
        post = _new_post(
            thread=thread, author=user, body=body, body_format=body_format, opening=True,
            staff=staff, now=now, extra_text=title,
        )  # fmt: skip
        if user is not None:
            Follow.objects.get_or_create(thread=thread, user=user, defaults={"created_at": now})
        if staff is not None:
            audit_append(
                action="board.thread.official", actor=staff, object_type="board_thread",
                object_id=str(thread.pk), function="board", detail={"post": post.pk},
            )  # fmt: skip
    return thread


def post_reply(
    *, thread: Thread, body: str, body_format: str = BodyFormat.PLAIN,
    user: BoardUser | None = None, staff: Any | None = None,
    now: datetime.datetime | None = None,
) -> Post:  # fmt: skip
    now = now or timezone.now()
    body, body_format = _clean_body(body, body_format)
    if (user is None) == (staff is None):
        raise BoardError(_("投稿者がわかりません。"))
    with _atomic():
        if user is not None:
            # One account's posts are counted under its row lock: parallel requests
            # cannot slip past the limit together.
            user = BoardUser.objects.select_for_update().get(pk=user.pk)
            _may_post(user, now)
        if not Post.objects.filter(thread=thread, is_opening=True, status=Status.VISIBLE).exists():
            raise BoardError(_("このスレッドには返信できません。"))
        post = _new_post(
            thread=thread, author=user, body=body, body_format=body_format, opening=False,
            staff=staff, now=now,
        )  # fmt: skip
        if user is not None:
            Follow.objects.get_or_create(thread=thread, user=user, defaults={"created_at": now})
        if post.status == Status.VISIBLE:
            Thread.objects.filter(pk=thread.pk).update(last_post_at=now)
            mail.notify_reply_on_commit(post=post)
        if staff is not None:
            audit_append(
                action="board.post.official", actor=staff, object_type="board_post",
                object_id=str(post.pk), function="board", detail={"thread": thread.pk},
            )  # fmt: skip
    return post


def reaction_toggle(*, user: BoardUser, post: Post) -> bool:
    """いいね on or off; one per user and post (the constraint holds it under races).
    Returns whether the user now likes the post."""
    if not user.is_active or user.is_blocked:
        raise BoardError(_("このアカウントでは操作できません。"))
    if post.status != Status.VISIBLE:
        raise BoardError(_("この投稿は表示されていません。"))
    with _atomic():
        deleted, _n = Reaction.objects.filter(user=user, post=post).delete()
        if deleted:
            return False
        try:
            with transaction.atomic(using=current_tenant_alias()):
                Reaction.objects.create(user=user, post=post)
        except IntegrityError:  # a parallel click made it first
            pass
    return True


def follow_set(*, user: BoardUser, thread: Thread, on: bool) -> None:
    if not user.is_active:
        raise BoardError(_("このアカウントでは操作できません。"))
    if on:
        Follow.objects.get_or_create(thread=thread, user=user)
    else:
        Follow.objects.filter(thread=thread, user=user).delete()


# --- moderation -----------------------------------------------------------------------------


def _log(
    *, action: str, reason: str, staff: Any | None = None, post: Post | None = None,
    target: BoardUser | None = None, terminal: Terminal | None = None,
) -> ModerationLog:  # fmt: skip
    entry = ModerationLog.objects.create(
        action=action, post=post, target=target, staff_id=getattr(staff, "pk", None),
        staff_username=getattr(staff, "username", ""), reason=reason,
    )  # fmt: skip
    audit_append(
        action=f"board.moderation.{action}", actor=staff, object_type="board_post" if post
        else "board_user", object_id=str(post.pk if post else getattr(target, "pk", "")),
        function="board", terminal=terminal,
        detail={"log": entry.pk, "reason": reason[:200]},
    )  # fmt: skip
    return entry


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise BoardError(_("理由を入力してください（記録に残ります）。"))
    if len(reason) > MAX_REASON:
        raise BoardError(_("理由は%(n)d文字以内で入力してください。") % {"n": MAX_REASON})
    return reason


def report_create(*, user: BoardUser, post: Post, reason: str, detail: str = "") -> Report:
    """Report a post. Once the municipality's threshold of distinct users have open
    reports on it, the post is hidden at once and waits for a moderator."""
    if not user.is_active or user.is_blocked:
        raise BoardError(_("このアカウントでは操作できません。"))
    if reason not in REPORT_REASONS:
        raise BoardError(_("通報の理由を選んでください。"))
    detail = (detail or "").strip()
    if len(detail) > 500:
        raise BoardError(_("詳しい説明は500文字以内で入力してください。"))
    if post.author_id == user.pk:
        raise BoardError(_("自分の投稿は通報できません。"))
    if post.is_official:
        raise BoardError(_("公式の投稿は通報できません。ご意見は問い合わせ窓口へお寄せください。"))
    with _atomic():
        post = Post.objects.select_for_update().get(pk=post.pk)
        report = Report.objects.filter(post=post, reporter=user).first()
        if report is not None:
            raise BoardError(_("この投稿はすでに通報済みです。"))
        report = Report.objects.create(post=post, reporter=user, reason=reason, detail=detail)
        reporters = (
            Report.objects.filter(post=post, resolved_at__isnull=True)
            .values("reporter").distinct().count()
        )  # fmt: skip
        if post.status == Status.VISIBLE and reporters >= settings_get().report_threshold:
            post.status = Status.HIDDEN
            post.status_reason = "reports"
            post.save(update_fields=["status", "status_reason"])
            _log(
                action="auto_hidden", post=post, target=post.author,
                # The log is the moderators' record, kept in Japanese whoever reported.
                reason=f"{reporters}人から通報があったため自動で非表示にしました。",
            )  # fmt: skip
    return report


def _may_moderate(staff: Any) -> None:
    from machi.accounts.roles import Role

    if not getattr(staff, "is_authenticated", False) or not staff.has_role(Role.MODERATOR):
        raise BoardError(_("掲示板モデレーターの役割がありません。"))


def post_hide(*, staff: Any, post: Post, reason: str, terminal: Terminal | None = None) -> Post:
    _may_moderate(staff)
    reason = _reason(reason)
    with _atomic():
        post.status = Status.HIDDEN
        post.status_reason = "moderator"
        post.save(update_fields=["status", "status_reason"])
        Report.objects.filter(post=post, resolved_at__isnull=True).update(
            resolved_at=timezone.now()
        )
        _log(action="hidden", staff=staff, post=post, target=post.author, reason=reason,
             terminal=terminal)  # fmt: skip
    if post.author is not None and post.author.is_active:
        mail.send_moderation(user=post.author, kind="hidden", reason=reason, post=post)
    return post


def post_unhide(*, staff: Any, post: Post, reason: str, terminal: Terminal | None = None) -> Post:
    """Show a hidden post again, or let a held one appear (the reports are dismissed)."""
    _may_moderate(staff)
    reason = _reason(reason)
    if post.author is not None and post.author.is_blocked:
        raise BoardError(
            _("利用停止中のユーザーの投稿は表示できません。先に停止を解除してください。")
        )
    with _atomic():
        was_held = post.status == Status.HELD
        post.status = Status.VISIBLE
        post.status_reason = ""
        post.save(update_fields=["status", "status_reason"])
        Report.objects.filter(post=post, resolved_at__isnull=True).update(
            resolved_at=timezone.now()
        )
        _log(action="released" if was_held else "unhidden", staff=staff, post=post,
             target=post.author, reason=reason, terminal=terminal)  # fmt: skip
        if was_held and not post.is_opening:
            Thread.objects.filter(pk=post.thread_id).update(last_post_at=timezone.now())
            mail.notify_reply_on_commit(post=post)
    return post


def user_warn(
    *, staff: Any, user: BoardUser, reason: str, post: Post | None = None,
    terminal: Terminal | None = None,
) -> BoardUser:  # fmt: skip
    _may_moderate(staff)
    reason = _reason(reason)
    with _atomic():
        user.warnings += 1
        user.save(update_fields=["warnings"])
        _log(action="warned", staff=staff, post=post, target=user, reason=reason,
             terminal=terminal)  # fmt: skip
    if user.is_active:
        mail.send_moderation(user=user, kind="warned", reason=reason, post=post)
    return user


def user_block(
    *, staff: Any, user: BoardUser, reason: str, terminal: Terminal | None = None
) -> BoardUser:
    """Block: every post of the user is hidden and they are told why, by mail and each
    time they sign in."""
    _may_moderate(staff)
    reason = _reason(reason)
    with _atomic():
        user.blocked_at = timezone.now()
        user.block_reason = reason
        user.save(update_fields=["blocked_at", "block_reason"])
        Post.objects.filter(author=user, status=Status.VISIBLE).update(
            status=Status.HIDDEN, status_reason="blocked"
        )
        Post.objects.filter(author=user, status=Status.HELD).update(status_reason="blocked")
        _log(action="blocked", staff=staff, target=user, reason=reason, terminal=terminal)
    if user.is_active:
        mail.send_moderation(user=user, kind="blocked", reason=reason)
    return user


def user_unblock(
    *, staff: Any, user: BoardUser, reason: str, terminal: Terminal | None = None
) -> BoardUser:
    """Lift a block: the posts the block hid are shown again (not those a moderator or
    the reports had hidden before)."""
    _may_moderate(staff)
    reason = _reason(reason)
    with _atomic():
        user.blocked_at = None
        user.block_reason = ""
        user.save(update_fields=["blocked_at", "block_reason"])
        Post.objects.filter(author=user, status=Status.HIDDEN, status_reason="blocked").update(
            status=Status.VISIBLE, status_reason=""
        )
        _log(action="unblocked", staff=staff, target=user, reason=reason, terminal=terminal)
    return user


def appeal_create(*, user: BoardUser, text: str, post: Post | None = None) -> Appeal:
    """The author asks for a second look, once per hidden post and once for a block."""
    text = (text or "").strip()
    if not text:
        raise BoardError(_("申し立ての内容を入力してください。"))
    if len(text) > 2000:
        raise BoardError(_("申し立ては2000文字以内で入力してください。"))
    if user.deleted_at is not None:
        raise BoardError(_("このアカウントでは操作できません。"))
    if post is not None:
        if post.author_id != user.pk or post.status == Status.VISIBLE:
            raise BoardError(_("非表示になった自分の投稿についてだけ申し立てができます。"))
        exists = Appeal.objects.filter(post=post).exists()
    else:
        if not user.is_blocked:
            raise BoardError(_("利用停止されていないため、申し立ては不要です。"))
        exists = Appeal.objects.filter(user=user, post__isnull=True).exists()
    if exists:
        raise BoardError(_("申し立てができるのは1回だけです。"))
    try:
        with _atomic():
            return Appeal.objects.create(user=user, post=post, text=text)
    except IntegrityError as exc:
        raise BoardError(_("申し立てができるのは1回だけです。")) from exc


def appeal_decide(
    *, staff: Any, appeal: Appeal, grant: bool, reason: str, terminal: Terminal | None = None
) -> Appeal:
    _may_moderate(staff)
    reason = _reason(reason)
    if appeal.decided_at is not None:
        raise BoardError(_("この申し立ては判断済みです。"))
    with _atomic():
        appeal.decided_at = timezone.now()
        appeal.decision = "granted" if grant else "rejected"
        appeal.save(update_fields=["decided_at", "decision"])
        _log(action=f"appeal_{appeal.decision}", staff=staff, post=appeal.post,
             target=appeal.user, reason=reason, terminal=terminal)  # fmt: skip
        if grant and appeal.post is not None:
            post_unhide(staff=staff, post=appeal.post, reason=reason, terminal=terminal)
        elif grant:
            user_unblock(staff=staff, user=appeal.user, reason=reason, terminal=terminal)
    if appeal.user.is_active:
        mail.send_appeal_decision(user=appeal.user, granted=grant, reason=reason)
    return appeal


def word_add(*, staff: Any, word: str) -> Word:
    _may_moderate(staff)
    word = (word or "").strip()
    if not word or len(word) > 60:
        raise BoardError(_("語句を60文字以内で入力してください。"))
    if Word.objects.filter(word__iexact=word).exists():
        raise BoardError(_("この語句はすでに登録されています。"))
    with _atomic():
        row = Word.objects.create(word=word)
        audit_append(action="board.word.added", actor=staff, object_type="board_word",
                     object_id=str(row.pk), function="board")  # fmt: skip
    return row


def word_delete(*, staff: Any, word: Word) -> None:
    _may_moderate(staff)
    with _atomic():
        audit_append(action="board.word.deleted", actor=staff, object_type="board_word",
                     object_id=str(word.pk), function="board")  # fmt: skip
        word.delete()


# --- staff ----------------------------------------------------------------------------------


def category_save(
    *, actor: Any, code: str, name: str, description: str = "", order: int | None = None,
    terminal: Terminal | None = None,
) -> Category:  # fmt: skip
    """Add a category or rename the one with ``code``. ``actor`` is a moderator, or None
    for the operator's command line (``machi board category``)."""
    from django.utils.text import slugify

    if actor is not None:
        _may_moderate(actor)
    code = (code or "").strip()
    name = (name or "").strip()
    description = (description or "").strip()
    if not code or slugify(code) != code or len(code) > 40:
        raise BoardError(
            _("分類コードは半角英小文字・数字・ハイフンの40文字以内で入力してください。")
        )
    if not name or len(name) > 60:
        raise BoardError(_("分類名を60文字以内で入力してください。"))
    if len(description) > 200:
        raise BoardError(_("説明は200文字以内で入力してください。"))
    with _atomic():
        row = Category.objects.select_for_update().filter(code=code).first()
        created = row is None
        if created:
            last = Category.objects.order_by("-order").values_list("order", flat=True).first()
            row = Category(code=code, order=(last or 0) + 1 if order is None else order)
        elif order is not None:
            row.order = order
        row.name = name
        row.description = description
        row.save()
        audit_append(
            action="board.category.added" if created else "board.category.changed", actor=actor,
            object_type="board_category", object_id=str(row.pk), function="board",
            terminal=terminal or (CLI_TERMINAL if actor is None else None),
            detail={"code": code},
        )  # fmt: skip
    return row


def thread_pin(*, staff: Any, thread: Thread, pinned: bool) -> Thread:
    _may_moderate(staff)
    with _atomic():
        thread.pinned_at = timezone.now() if pinned else None
        thread.save(update_fields=["pinned_at"])
        audit_append(
            action="board.thread.pinned" if pinned else "board.thread.unpinned", actor=staff,
            object_type="board_thread", object_id=str(thread.pk), function="board",
        )  # fmt: skip
    return thread


def thread_to_request(
    *, staff: Any, thread: Thread, category: Any, address: str, thread_url: str,
    terminal: Terminal | None = None,
) -> Any:  # fmt: skip
    """A thread that reports a problem becomes a residents' request (machi.requests),
    filed by the staff member; the request's text links back to the thread. The
    residents' mail addresses are not copied: they follow the thread on the board."""
    from machi.requests.services import RequestError, request_create

    _may_moderate(staff)
    if thread.request_code:
        raise BoardError(_("このスレッドはすでに要望になっています。"))
    opening = thread.posts.filter(is_opening=True).first()
    description = f"{thread.title}\n\n{opening.body if opening else ''}"[:3500]
    description += f"\n\n（地域掲示板のスレッドから: {thread_url}）"
    try:
        with _atomic():
            filed = request_create(
                category=category, description=description, address=address,
                actor=staff, terminal=terminal,
            )  # fmt: skip
            thread.request_code = filed.request.public_code
            thread.save(update_fields=["request_code"])
            audit_append(
                action="board.thread.to_request", actor=staff, object_type="board_thread",
                object_id=str(thread.pk), function="board",
                detail={"request": filed.request.public_code},
            )  # fmt: skip
    except RequestError as exc:
        raise BoardError(exc.messages) from exc
    return filed.request


# --- digests --------------------------------------------------------------------------------


def digest_send(*, now: datetime.datetime | None = None) -> int:
    """Daily digest: each user who chose it gets one mail with the visible replies of
    others in the threads they follow since their last digest. Idempotent: a second run
    the same day finds nothing new. Returns the number of mails sent."""
    now = now or timezone.now()
    sent = 0
    users = BoardUser.objects.filter(
        notify=Notify.DAILY, confirmed_at__isnull=False, deleted_at__isnull=True,
        blocked_at__isnull=True,
    )  # fmt: skip
    for user in users:
        since = user.digest_sent_at or user.confirmed_at
        if now - since < datetime.timedelta(hours=20):
            continue
        posts = list(
            Post.objects.filter(
                thread__follows__user=user,
                status=Status.VISIBLE,
                created_at__gt=since,
                created_at__lte=now,
            )
            .exclude(author=user)
            .select_related("thread")
            .distinct()
            .order_by("thread_id", "created_at")
        )
        if posts:
            mail.send_digest(user=user, posts=posts)
            sent += 1
        user.digest_sent_at = now
        user.save(update_fields=["digest_sent_at"])
    return sent
