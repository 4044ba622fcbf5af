import datetime

import pytest
import time_machine
from django.utils import timezone

from machi.board import services
from machi.board.models import Notify, Post, Reaction, Status
from machi.board.services import BoardError
from machi.tenancy.context import tenant_alias, tenant_context
from machi.testing.xss import XSS_CASES, assert_inert

pytestmark = pytest.mark.django_db(databases="__all__")
A, B = "131016", "271403"
OLD = {"created_at": timezone.now() - datetime.timedelta(days=30)}  # past the new-account hours


def test_reaction_is_one_per_user(make_user, make_thread, board_client):
    author, fan = make_user(), make_user(**OLD)
    thread = make_thread(author)
    with tenant_context(A):
        post = thread.posts.get()
    client = board_client(fan)
    url = f"/{A}/board/p/{post.pk}/react/"
    assert client.post(url).status_code == 302
    with tenant_context(A):
        assert Reaction.objects.filter(post=post).count() == 1
        # The constraint holds even past the service.
        from django.db import IntegrityError, transaction

        with pytest.raises(IntegrityError), transaction.atomic(using=tenant_alias(A)):
            Reaction.objects.create(post=post, user=fan)
    assert client.post(url).status_code == 302  # a second click takes it back
    with tenant_context(A):
        assert Reaction.objects.filter(post=post).count() == 0
    client.post(url)
    page = client.get(f"/{A}/board/t/{thread.pk}/").content.decode()
    assert 'aria-pressed="true"' in page


def test_follow_immediate_mail_and_daily_digest(
    make_user, make_thread, smtp_server, settings, django_capture_on_commit_callbacks
):
    settings.MACHI_PUBLIC_URL = "https://machi.example.jp"
    author = make_user(**OLD)
    quick = make_user(**OLD, name="すぐ派")
    daily = make_user(**OLD, name="まとめ派", notify=Notify.DAILY)
    silent = make_user(**OLD, name="無通知", notify=Notify.NONE)
    stranger = make_user(**OLD)  # follows nothing
    smtp_server.clear()
    start = timezone.now()
    thread = make_thread(author)
    with tenant_context(A):
        for user in (quick, daily, silent):
            services.follow_set(user=user, thread=thread, on=True)
        on_commit = django_capture_on_commit_callbacks(using=tenant_alias(A), execute=True)
        with time_machine.travel(start + datetime.timedelta(hours=1), tick=False), on_commit:
            reply = services.post_reply(thread=thread, body="直りましたか？", user=stranger)
    mails = smtp_server.wait_for(2)
    assert sorted(m["To"] for m in mails) == sorted([author.email, quick.email])
    assert all(f"#post-{reply.pk}" in m.get_content() for m in mails)
    assert stranger.email not in [m["To"] for m in mails]  # the author is not told of their own
    # The digest task, a day later: one mail to the daily follower with the reply.
    smtp_server.clear()
    from machi.board.tasks import board_digest_task

    with time_machine.travel(start + datetime.timedelta(hours=25), tick=False):
        result = board_digest_task.call()
    assert result[A] == 1
    [digest] = smtp_server.wait_for(1)
    assert digest["To"] == daily.email and "公園のベンチ" in digest.get_content()
    # Run again at once: nothing twice.
    with time_machine.travel(start + datetime.timedelta(hours=26), tick=False):
        assert board_digest_task.call()[A] == 0
    assert len(smtp_server.messages) == 1


def test_bulk_posting_is_stopped(make_user, make_thread):
    """1,000 posts from one account within a minute: the limit stops all but a few."""
    spammer = make_user(**OLD)
    thread = make_thread(make_user(**OLD))
    accepted = refused = 0
    start = timezone.now()
    with tenant_context(A):
        limit = services.settings_get().posts_per_minute
        for n in range(1000):
            when = start + datetime.timedelta(milliseconds=50 * n)
            try:
                services.post_reply(thread=thread, body=f"宣伝 {n}", user=spammer, now=when)
                accepted += 1
            except BoardError:
                refused += 1
        assert accepted == limit and refused == 1000 - limit
        assert Post.objects.filter(author=spammer).count() == limit


def test_new_accounts_post_less_per_hour(make_user, make_thread):
    new = make_user()
    thread = make_thread(make_user(**OLD))
    with tenant_context(A):
        row = services.settings_get()
        start = timezone.now()
        for n in range(row.new_account_posts_per_hour):
            when = start + datetime.timedelta(minutes=5 * n)
            services.post_reply(thread=thread, body=f"こんにちは {n}", user=new, now=when)
        with pytest.raises(BoardError, match="登録から間もない"):
            services.post_reply(
                thread=thread, body="もう一つ", user=new, now=start + datetime.timedelta(minutes=59)
            )


def test_rate_limit_over_http_is_429(make_user, make_thread, board_client):
    user = make_user(**OLD)
    thread = make_thread(make_user(**OLD))
    client = board_client(user)
    with tenant_context(A):
        limit = services.settings_get().posts_per_minute
    statuses = [
        client.post(f"/{A}/board/t/{thread.pk}/reply/", {"body": f"返信 {n}"}).status_code
        for n in range(limit + 1)
    ]
    assert statuses == [302] * limit + [429]


@pytest.mark.parametrize("body_format", ["plain", "markdown"])
def test_xss_cases_in_posts_are_inert(make_user, make_thread, board_client, body_format):
    import re

    user = make_user(**OLD)
    with tenant_context(A):
        services.settings_update(actor=None, report_threshold=3, new_account_posts_per_hour=100,
                                 posts_per_minute=60, posts_per_hour=1000)  # fmt: skip
    thread = make_thread(user, title="<script>window.__xss(99)</script>", body=XSS_CASES[0],
                         body_format=body_format)  # fmt: skip
    with tenant_context(A):
        for case in XSS_CASES[1:]:
            services.post_reply(thread=thread, body=case, body_format=body_format, user=user)
    page = board_client(user).get(f"/{A}/board/t/{thread.pk}/").content.decode()
    bodies = re.findall(r'<div class="post-body">(.*?)</div>\n</article>', page, re.S)
    assert len(bodies) == len(XSS_CASES)
    for html in bodies:
        assert_inert(html)
    assert "<script>window.__xss" not in page
    assert "&lt;script&gt;window.__xss(99)&lt;/script&gt;" in page  # the title, as text


def test_markdown_links_are_nofollow_ugc(make_user, make_thread):
    from machi.board.markup import post_html

    html = post_html("[市のサイト](https://www.city.example.jp/)", "markdown")
    assert 'rel="nofollow ugc noopener noreferrer"' in html


@pytest.mark.parametrize(
    ("title", "body", "message"),
    [("", "本文", "題名を入力"), ("題名", "", "本文を入力"), ("あ" * 121, "本文", "120文字以内"),
     ("題名", "あ" * 8001, "8000文字以内")],
)  # fmt: skip
def test_bad_posts_are_refused(make_user, board_client, category_a, title, body, message):
    client = board_client(make_user(**OLD))
    response = client.post(
        f"/{A}/board/new/", {"category": category_a.code, "title": title, "body": body}
    )
    assert response.status_code == 400 and message in response.content.decode()
    with tenant_context(A):
        assert not Post.objects.exists()


def test_reading_needs_no_account_and_writing_does(client, make_user, make_thread):
    thread = make_thread(make_user(**OLD))
    assert "公園のベンチ" in client.get(f"/{A}/board/").content.decode()
    assert client.get(f"/{A}/board/t/{thread.pk}/").status_code == 200
    response = client.post(f"/{A}/board/t/{thread.pk}/reply/", {"body": "匿名"})
    assert response.status_code == 302 and "/board/signin/" in response.url
    with tenant_context(A):
        assert Post.objects.count() == 1
    # Another municipality's thread id is not found here (it lives in another database).
    assert client.get(f"/{B}/board/t/{thread.pk}/").status_code == 404


@pytest.mark.parametrize("lang", ["ja", "ja-easy", "en"])
def test_pages_in_each_language(client, make_user, make_thread, lang):
    thread = make_thread(make_user(**OLD))
    response = client.get(f"/{A}/board/?lang={lang}")
    assert response.status_code == 302
    for url in (f"/{A}/board/", f"/{A}/board/t/{thread.pk}/", f"/{A}/board/register/",
                f"/{A}/board/signin/"):  # fmt: skip
        page = client.get(url)
        assert page.status_code == 200
        assert 'lang="en"' in page.content.decode()[:200] if lang == "en" else True


def test_held_and_hidden_posts_are_not_shown_to_others(make_user, make_thread, client):
    author = make_user(**OLD)
    thread = make_thread(author)
    with tenant_context(A):
        post = services.post_reply(thread=thread, body="表示される", user=author)
        Post.objects.filter(pk=post.pk).update(status=Status.HIDDEN)
    assert "表示される" not in client.get(f"/{A}/board/t/{thread.pk}/").content.decode()
