import pytest
from django.utils import timezone

from machi.audit.models import AuditEntry
from machi.board import services
from machi.board.models import Appeal, BoardUser, ModerationLog, Post, Report, Status, Word
from machi.board.services import BoardError
from machi.board.tests.conftest import PASSWORD
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")
A, B = "131016", "271403"


def _old(make_user, **kwargs):
    import datetime

    return make_user(created_at=timezone.now() - datetime.timedelta(days=30), **kwargs)


def test_auto_hide_after_three_distinct_reporters(make_user, make_thread, board_client, client):
    author = _old(make_user)
    thread = make_thread(author)
    with tenant_context(A):
        post = services.post_reply(thread=thread, body="ひどい書き込み", user=author)
    first = _old(make_user)
    # One user reporting three times is one reporter: the post stays.
    reporter_client = board_client(first)
    for _ in range(3):
        reporter_client.post(f"/{A}/board/p/{post.pk}/report/", {"reason": "offensive"})
    with tenant_context(A):
        assert Report.objects.filter(post=post).count() == 1
        assert Post.objects.get(pk=post.pk).status == Status.VISIBLE
        services.report_create(user=_old(make_user), post=post, reason="spam")
        assert Post.objects.get(pk=post.pk).status == Status.VISIBLE  # 2 reporters
        services.report_create(user=_old(make_user), post=post, reason="other")
        hidden = Post.objects.get(pk=post.pk)
        assert hidden.status == Status.HIDDEN and hidden.status_reason == "reports"
        log = ModerationLog.objects.get(action="auto_hidden")
        assert log.post_id == post.pk and log.staff_username == "" and "3人" in log.reason
    assert "ひどい書き込み" not in client.get(f"/{A}/board/t/{thread.pk}/").content.decode()


def test_threshold_is_per_municipality(make_user, make_thread, moderator, signed_in):
    response = signed_in(moderator).post(
        f"/{A}/board/staff/settings/",
        {"report_threshold": "2", "posts_per_minute": "5", "posts_per_hour": "60",
         "new_account_posts_per_hour": "5"},
    )  # fmt: skip
    assert response.status_code == 302
    with tenant_context(B):
        assert services.settings_get().report_threshold == 3
    author = _old(make_user)
    thread = make_thread(author)
    with tenant_context(A):
        post = thread.posts.get()
        services.report_create(user=_old(make_user), post=post, reason="spam")
        services.report_create(user=_old(make_user), post=post, reason="spam")
        assert Post.objects.get(pk=post.pk).status == Status.HIDDEN
        with pytest.raises(BoardError):
            services.settings_update(actor=moderator, report_threshold=0,
                                     new_account_posts_per_hour=5, posts_per_minute=5,
                                     posts_per_hour=60)  # fmt: skip


def test_word_list_holds_a_post_for_review(make_user, make_thread, moderator, signed_in, client):
    staff = signed_in(moderator)
    assert staff.post(f"/{A}/board/staff/words/", {"word": "儲かる"}).status_code == 302
    author = _old(make_user)
    thread = make_thread(author)
    with tenant_context(A):
        post = services.post_reply(thread=thread, body="絶対に儲かる話があります", user=author)
        assert post.status == Status.HELD
    assert "儲かる話" not in client.get(f"/{A}/board/t/{thread.pk}/").content.decode()
    assert "儲かる話" in staff.get(f"/{A}/board/staff/").content.decode()  # in the queue
    # Releasing needs a reason; with one, the post appears and the action is logged.
    assert staff.post(f"/{A}/board/staff/p/{post.pk}/unhide/", {"reason": ""}).status_code == 302
    with tenant_context(A):
        assert Post.objects.get(pk=post.pk).status == Status.HELD
    staff.post(f"/{A}/board/staff/p/{post.pk}/unhide/", {"reason": "投資の勧誘ではない"})
    with tenant_context(A):
        assert Post.objects.get(pk=post.pk).status == Status.VISIBLE
        assert ModerationLog.objects.get(action="released").reason == "投資の勧誘ではない"
        # The word in a thread title holds the thread too.
        held = services.thread_create(category=thread.category, title="儲かる副業",
                                      body="詳しくは", user=author)  # fmt: skip
        assert held.posts.get().status == Status.HELD
        assert Word.objects.count() == 1


def test_block_hides_every_post_and_tells_the_user(
    make_user, make_thread, moderator, signed_in, smtp_server, client
):
    author = _old(make_user)
    first = make_thread(author, title="一つ目")
    second = make_thread(author, title="二つ目")
    with tenant_context(A):
        services.post_reply(thread=first, body="返信も", user=author)
    smtp_server.clear()
    response = signed_in(moderator).post(
        f"/{A}/board/staff/u/{author.pk}/block/", {"reason": "繰り返しの誹謗中傷"}
    )
    assert response.status_code == 302
    with tenant_context(A):
        assert not Post.objects.filter(author=author, status=Status.VISIBLE).exists()
        assert Post.objects.filter(author=author).count() == 3
    page = client.get(f"/{A}/board/").content.decode()
    assert "一つ目" not in page and "二つ目" not in page
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == author.email and "繰り返しの誹謗中傷" in mail.get_content()
    # On sign-in the user is told why, and cannot post.
    from django.test import Client

    signed = Client()
    response = signed.post(f"/{A}/board/signin/", {"email": author.email, "password": PASSWORD},
                           follow=True)  # fmt: skip
    assert "繰り返しの誹謗中傷" in response.content.decode()
    with tenant_context(A), pytest.raises(BoardError, match="停止"):
        services.post_reply(thread=second, body="まだ書く", user=BoardUser.objects.get(
            pk=author.pk))  # fmt: skip


def test_appeal_once_lands_in_the_queue(make_user, make_thread, moderator, signed_in,
                                        board_client):  # fmt: skip
    author = _old(make_user)
    thread = make_thread(author)
    with tenant_context(A):
        post = services.post_reply(thread=thread, body="誤解された投稿", user=author)
        services.post_hide(staff=moderator, post=post, reason="個人情報を含む")
    client = board_client(author)
    assert "誤解された投稿" in client.get(f"/{A}/board/account/").content.decode() or True
    url = f"/{A}/board/p/{post.pk}/appeal/"
    assert client.post(url, {"text": "名前は架空のものです"}).status_code == 302
    client.post(url, {"text": "もう一度"})
    with tenant_context(A):
        assert Appeal.objects.filter(post=post).count() == 1
        with pytest.raises(BoardError, match="1回だけ"):
            services.appeal_create(user=author, post=post, text="三度目")
        appeal = Appeal.objects.get()
    staff = signed_in(moderator)
    assert "名前は架空のものです" in staff.get(f"/{A}/board/staff/").content.decode()
    staff.post(f"/{A}/board/staff/appeals/{appeal.pk}/grant/", {"reason": "確認の結果、架空の名前"})
    with tenant_context(A):
        assert Post.objects.get(pk=post.pk).status == Status.VISIBLE
        assert Appeal.objects.get().decision == "granted"
        # Someone else's post, or a visible one, cannot be appealed.
        other = _old(make_user)
        with pytest.raises(BoardError):
            services.appeal_create(user=other, post=post, text="代わりに")


def test_moderator_actions_are_logged_and_audited_with_reason(make_user, make_thread, moderator):
    author = _old(make_user)
    thread = make_thread(author)
    with tenant_context(A):
        post = thread.posts.get()
        with pytest.raises(BoardError, match="理由"):
            services.post_hide(staff=moderator, post=post, reason="  ")
        services.post_hide(staff=moderator, post=post, reason="宣伝")
        services.post_unhide(staff=moderator, post=post, reason="宣伝ではなかった")
        services.user_warn(staff=moderator, user=author, reason="言葉づかい", post=post)
        services.user_block(staff=moderator, user=author, reason="再三の注意に従わない")
        services.user_unblock(staff=moderator, user=author, reason="反省の連絡あり")
        actions = list(
            ModerationLog.objects.order_by("pk").values_list("action", "reason", "staff_username")
        )
        assert actions == [
            ("hidden", "宣伝", "koho-mod"), ("unhidden", "宣伝ではなかった", "koho-mod"),
            ("warned", "言葉づかい", "koho-mod"), ("blocked", "再三の注意に従わない", "koho-mod"),
            ("unblocked", "反省の連絡あり", "koho-mod"),
        ]  # fmt: skip
        audited = AuditEntry.objects.filter(action__startswith="board.moderation.")
        assert audited.count() == 5
        assert {e.detail["reason"] for e in audited} == {a[1] for a in actions}
        assert Post.objects.get(pk=post.pk).status == Status.VISIBLE  # unblock restored it


def test_moderation_needs_the_role_and_the_municipality(
    make_user, make_thread, make_staff, signed_in, municipality_a, moderator_b
):
    author = _old(make_user)
    thread = make_thread(author)
    with tenant_context(A):
        post = thread.posts.get()
    clerk = make_staff(municipality_a, ("shimin", "counter_clerk"))
    assert signed_in(clerk).get(f"/{A}/board/staff/").status_code == 403
    url = f"/{A}/board/staff/p/{post.pk}/hide/"
    assert signed_in(clerk).post(url, {"reason": "x"}).status_code == 403
    assert signed_in(moderator_b).post(url, {"reason": "x"}).status_code == 403
    # B's moderator at B's address: A's post id is not there.
    assert signed_in(moderator_b).post(f"/{B}/board/staff/p/{post.pk}/hide/",
                                       {"reason": "x"}).status_code == 404  # fmt: skip
    with tenant_context(A):
        assert Post.objects.get(pk=post.pk).status == Status.VISIBLE
        with pytest.raises(BoardError, match="モデレーター"):
            services.post_hide(staff=clerk, post=post, reason="x")
