"""Reads of the community board. Public reads show only visible posts; a thread is
listed when its opening post is visible."""

from __future__ import annotations

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from machi.board.models import (
    Appeal,
    BoardUser,
    Category,
    ModerationLog,
    Post,
    Reaction,
    Report,
    Status,
    Thread,
)

PAGE = 50


def categories() -> list[Category]:
    return list(Category.objects.all())


def category_get(*, code: str) -> Category | None:
    return Category.objects.filter(code=code).first()


def _visible_threads() -> QuerySet[Thread]:
    opening = Post.objects.filter(thread=OuterRef("pk"), is_opening=True, status=Status.VISIBLE)
    return (
        Thread.objects.filter(Exists(opening))
        .select_related("category", "author")
        .annotate(replies=Count("posts", filter=Q(posts__status=Status.VISIBLE)) - 1)
    )


def threads(*, category: Category | None = None, limit: int = PAGE) -> list[Thread]:
    """Pinned threads first, then by latest post. NULLs last spelled out: PostgreSQL
    sorts them first in a descending order (SQLite last)."""
    rows = _visible_threads()
    if category is not None:
        rows = rows.filter(category=category)
    pinned = F("pinned_at").desc(nulls_last=True)
    return list(rows.order_by(pinned, "-last_post_at", "-pk")[:limit])


def thread_get(*, pk: int) -> Thread | None:
    return _visible_threads().filter(pk=pk).first()


def thread_any(*, pk: int) -> Thread | None:
    """Staff: a thread whatever its opening post's state."""
    return Thread.objects.select_related("category", "author").filter(pk=pk).first()


def thread_posts(*, thread: Thread, viewer: BoardUser | None = None) -> list[Post]:
    """Visible posts, with ``likes`` and ``liked`` (by the viewer). The viewer's own
    held or hidden posts are listed too, so they see what happened to them."""
    mine = Q(author=viewer) if viewer is not None else Q(pk__in=[])
    rows = (
        Post.objects.filter(thread=thread)
        .filter(Q(status=Status.VISIBLE) | mine)
        .select_related("author")
        .annotate(likes=Count("reactions"))
    )
    if viewer is not None:
        rows = rows.annotate(
            liked=Exists(Reaction.objects.filter(post=OuterRef("pk"), user=viewer))
        )
    return list(rows.order_by("created_at", "pk"))


def post_get(*, pk: int) -> Post | None:
    return Post.objects.select_related("thread", "author").filter(pk=pk).first()


def is_following(*, user: BoardUser | None, thread: Thread) -> bool:
    return user is not None and thread.follows.filter(user=user).exists()


def moderation_queue() -> dict[str, list]:
    """What waits for a moderator: held posts, hidden posts with open reports, posts
    with reports below the threshold, and undecided appeals."""
    open_reports = Count("reports", filter=Q(reports__resolved_at__isnull=True))
    base = Post.objects.select_related("thread", "author").annotate(open_reports=open_reports)
    return {
        "held": list(base.filter(status=Status.HELD).order_by("created_at")),
        "reported": list(
            base.filter(open_reports__gt=0).exclude(status=Status.HELD).order_by("-open_reports")
        ),
        "appeals": list(
            Appeal.objects.filter(decided_at__isnull=True)
            .select_related("user", "post", "post__thread")
            .order_by("created_at")
        ),
    }


def post_reports(*, post: Post) -> list[Report]:
    return list(post.reports.select_related("reporter").order_by("created_at"))


def moderation_log(*, limit: int = 100) -> list[ModerationLog]:
    return list(ModerationLog.objects.select_related("post", "target")[:limit])


def user_get(*, pk: int) -> BoardUser | None:
    return BoardUser.objects.filter(pk=pk).first()


def user_posts(*, user: BoardUser) -> list[Post]:
    return list(user.posts.select_related("thread").order_by("-created_at")[:PAGE])


def user_appealable(*, user: BoardUser) -> dict[str, object]:
    """The user's hidden posts not yet appealed, and whether the block may be appealed."""
    appealed = set(Appeal.objects.filter(user=user).values_list("post_id", flat=True))
    posts = [
        p for p in user.posts.exclude(status=Status.VISIBLE).select_related("thread")
        if p.pk not in appealed
    ]  # fmt: skip
    return {"posts": posts, "block": user.is_blocked and None not in appealed}
