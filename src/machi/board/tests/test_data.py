"""A resident's data (export, delete), a thread becoming a request, what board users
never see, bulk posting of threads and replies, the demo seed and the command line."""

import datetime
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from machi.audit.models import AuditEntry
from machi.board import services
from machi.board.models import BoardUser, Category, Post, Thread
from machi.board.services import BoardError
from machi.board.tests.conftest import PASSWORD
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")
A, B = "131016", "271403"
OLD = {"created_at": timezone.now() - datetime.timedelta(days=30)}


def _request_category():
    from machi.requests.models import Category as RequestCategory

    return RequestCategory.objects.filter(is_active=True).order_by("pk").first()


# --- export and delete ----------------------------------------------------------------------


def test_export_holds_the_users_posts_and_nothing_of_others(make_user, make_thread, board_client):
    me = make_user(name="わたし", **OLD)
    other = make_user(name="となりの人", **OLD)
    thread = make_thread(other, title="他人のスレッド", body="他人の本文です")
    mine = make_thread(me, title="私のスレッド", body="私の本文です")
    with tenant_context(A):
        services.post_reply(thread=thread, body="私の返信です", user=me)
        services.post_reply(thread=thread, body="他人の返信です", user=other)
        services.reaction_toggle(user=me, post=thread.posts.get(is_opening=True))
    response = board_client(me).post(f"/{A}/board/account/", {"action": "export"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    data = response.json()
    assert data["account"]["email"] == me.email and data["account"]["display_name"] == "わたし"
    assert sorted(p["body"] for p in data["posts"]) == ["私の本文です", "私の返信です"]
    assert {p["thread_id"] for p in data["posts"]} == {thread.pk, mine.pk}
    assert len(data["reactions"]) == 1 and len(data["follows"]) == 2
    text = json.dumps(data, ensure_ascii=False)
    for foreign in ("他人の本文です", "他人の返信です", "となりの人", other.email):
        assert foreign not in text


def test_export_needs_the_users_own_sign_in(make_user, board_client, client):
    user = make_user()
    assert client.post(f"/{A}/board/account/", {"action": "export"}).status_code == 302
    # Signed in at A is nobody at B.
    response = board_client(user).post(f"/{B}/board/account/", {"action": "export"})
    assert response.status_code == 302 and "/signin/" in response.url


def test_delete_leaves_posts_as_a_former_user_and_ends_the_account(
    make_user, make_thread, board_client
):
    user = make_user(name="山田はなこ", **OLD)
    thread = make_thread(user, title="公園の遊具", body="すべり台が壊れています")
    client = board_client(user)
    # Without the confirmation box nothing happens.
    refused = client.post(f"/{A}/board/account/", {"action": "delete"})
    assert refused.status_code == 400 and "確認の欄" in refused.content.decode()
    with tenant_context(A):
        assert BoardUser.objects.get(pk=user.pk).deleted_at is None
    response = client.post(f"/{A}/board/account/", {"action": "delete", "confirm": "yes"})
    assert response.status_code == 302
    page = Client().get(f"/{A}/board/t/{thread.pk}/").content.decode()
    assert "すべり台が壊れています" in page and "退会したユーザー" in page
    assert "山田はなこ" not in page
    with tenant_context(A):
        gone = BoardUser.objects.get(pk=user.pk)
        assert (gone.email, gone.email_key, gone.display_name, gone.password) == ("", "", "", "")
        assert not gone.follows.exists()
        assert AuditEntry.objects.filter(action="board.user.deleted",
                                         object_id=str(user.pk)).exists()  # fmt: skip
    # The old session is over and the old address and password sign in no more.
    assert client.get(f"/{A}/board/account/").status_code == 302
    again = Client().post(f"/{A}/board/signin/", {"email": user.email, "password": PASSWORD})
    assert again.status_code == 400
    with tenant_context(A), pytest.raises(BoardError):
        services.thread_create(category=thread.category, title="x", body="y", user=gone)


# --- thread → request -----------------------------------------------------------------------


def test_thread_becomes_a_request(make_user, make_thread, moderator, signed_in, client):
    from machi.requests.models import Request

    user = make_user(**OLD)
    thread = make_thread(user, title="街灯が消えています", body="駅前通りの3本目です。")
    with tenant_context(A):
        category = _request_category()
    staff = signed_in(moderator)
    url = f"/{A}/board/staff/t/{thread.pk}/request/"
    response = staff.post(url, {"category": str(category.pk), "address": "千代田区丸の内1-1"})
    assert response.status_code == 302
    with tenant_context(A):
        thread.refresh_from_db()
        filed = Request.objects.get(public_code=thread.request_code)
        assert filed.category_id == category.pk and filed.address == "千代田区丸の内1-1"
        assert "街灯が消えています" in filed.description
        assert f"/{A}/board/t/{thread.pk}/" in filed.description
        assert user.email not in filed.description
        entry = AuditEntry.objects.get(action="board.thread.to_request")
        assert entry.actor_id == moderator.pk and entry.detail["request"] == filed.public_code
    page = client.get(f"/{A}/board/t/{thread.pk}/").content.decode()
    assert filed.public_code in page
    # Once only.
    staff.post(url, {"category": str(category.pk), "address": "千代田区丸の内1-1"})
    with tenant_context(A):
        assert Request.objects.filter(description__contains="街灯が消えています").count() == 1


def test_thread_to_request_is_refused_to_others(
    make_user, make_thread, make_staff, signed_in, municipality_a, moderator, moderator_b,
    board_client,
):  # fmt: skip
    from machi.requests.models import Request

    user = make_user(**OLD)
    thread = make_thread(user)
    with tenant_context(A):
        category = _request_category()
        before = Request.objects.count()
    data = {"category": str(category.pk), "address": "千代田区丸の内1-1"}
    url = f"/{A}/board/staff/t/{thread.pk}/request/"
    clerk = make_staff(municipality_a, ("shimin", "department_staff"))
    assert signed_in(clerk).post(url, data).status_code == 403
    assert signed_in(moderator_b).post(url, data).status_code == 403
    assert signed_in(moderator_b).post(f"/{B}/board/staff/t/{thread.pk}/request/",
                                       data).status_code == 404  # fmt: skip
    resident = board_client(user).post(url, data)
    assert resident.status_code == 302 and resident.url.startswith("/login/")
    # Bad input: no category, no place.
    staff = signed_in(moderator)
    staff.post(url, {"category": "", "address": "千代田区丸の内1-1"})
    staff.post(url, {"category": str(category.pk), "address": ""})
    with tenant_context(A):
        assert Request.objects.count() == before
        assert Thread.objects.get(pk=thread.pk).request_code == ""
        with pytest.raises(BoardError, match="モデレーター"):
            services.thread_to_request(staff=clerk, thread=thread, category=category,
                                       address="x", thread_url="http://x/")  # fmt: skip
        assert not AuditEntry.objects.filter(action="board.thread.to_request").exists()


# --- what board users see -------------------------------------------------------------------


def test_board_users_see_no_staff_or_registry_data(
    make_user, make_thread, moderator, board_client, signed_in
):
    user = make_user(**OLD)
    thread = make_thread(user)
    with tenant_context(A):
        services.post_reply(thread=thread, body="公式の回答です。", staff=moderator)
    client = board_client(user)
    page = client.get(f"/{A}/board/t/{thread.pk}/").content.decode()
    assert "公式の回答です。" in page and "千代田区" in page
    # The staff member who wrote as the municipality is not named to residents.
    assert moderator.username not in page and moderator.display_name not in page
    for url in (f"/{A}/board/staff/", f"/{A}/board/staff/t/{thread.pk}/",
                f"/{A}/board/staff/u/{user.pk}/", f"/{A}/requests/staff/",
                f"/{A}/residents/", f"/{A}/audit/"):  # fmt: skip
        response = client.get(url)
        assert response.status_code in (302, 404), url
        if response.status_code == 302:
            assert response.url.startswith("/login/"), url
    export = json.dumps(
        client.post(f"/{A}/board/account/", {"action": "export"}).json(), ensure_ascii=False
    )
    assert moderator.username not in export
    # The moderator's own pages do name them (the page is real, not empty).
    assert (
        moderator.username
        in signed_in(moderator).get(f"/{A}/board/staff/t/{thread.pk}/").content.decode()
    )


# --- bulk posting ---------------------------------------------------------------------------


def test_a_thousand_threads_and_replies_in_a_minute_are_stopped(make_user, make_thread):
    """Threads count against the same limit as replies: 1,000 attempts of both from one
    account within a minute get only the per-minute limit through."""
    spammer = make_user(**OLD)
    thread = make_thread(make_user(**OLD))
    start = timezone.now()
    accepted = 0
    with tenant_context(A):
        category = Category.objects.get(code="chiiki")
        limit = services.settings_get().posts_per_minute
        for n in range(1000):
            when = start + datetime.timedelta(milliseconds=59 * n)
            try:
                if n % 2:
                    services.post_reply(thread=thread, body=f"宣伝 {n}", user=spammer, now=when)
                else:
                    services.thread_create(
                        category=category, title=f"宣伝 {n}", body="安い", user=spammer, now=when
                    )
                accepted += 1
            except services.RateLimited:
                pass
        assert accepted == limit
        assert Post.objects.filter(author=spammer).count() == limit
        assert Thread.objects.filter(author=spammer).count() == (limit + 1) // 2


# --- demo and command line ------------------------------------------------------------------


def test_demo_seed_is_idempotent(make_staff, municipality_a, client):
    from machi.board.demo import OFFICIAL_TITLE, demo_board_seed
    from machi.web.demo import DEMO_PASSWORD

    make_staff(municipality_a, ("koho", "moderator"), username="chiyoda-koho")
    demo_board_seed(A)
    demo_board_seed(A)
    with tenant_context(A):
        official = Thread.objects.get(title=OFFICIAL_TITLE)
        assert official.is_official and official.pinned_at is not None
        assert Thread.objects.count() == 3 and BoardUser.objects.count() == 3
        assert Post.objects.filter(is_opening=False).count() == 4
        assert Category.objects.filter(code__in=["chiiki", "kosodate", "bosai"]).count() == 3
    page = client.get(f"/{A}/board/").content.decode()
    assert page.index(OFFICIAL_TITLE) < page.index("駅前通りの街灯が消えています")
    signin = client.post(f"/{A}/board/signin/",
                         {"email": "yamada@example.jp", "password": DEMO_PASSWORD})  # fmt: skip
    assert signin.status_code == 302


def test_demo_seed_without_a_moderator_does_nothing(municipality_b):
    from machi.board.demo import demo_board_seed

    demo_board_seed(B)
    with tenant_context(B):
        assert not Thread.objects.exists()


def test_command_line_creates_accounts_and_categories(municipality_a, capsys):
    call_command("board", "user-create", "--tenant", A, "--email", "cli@example.jp",
                 "--name", "窓口で登録", "--password", PASSWORD)  # fmt: skip
    call_command("board", "category", "--tenant", A, "--code", "shotengai",
                 "--name", "商店街", "--description", "お店の話題")  # fmt: skip
    assert "確認済み" in capsys.readouterr().out
    with tenant_context(A):
        user = BoardUser.objects.get(email_key="cli@example.jp")
        assert user.is_active
        assert Category.objects.get(code="shotengai").name == "商店街"
        assert AuditEntry.objects.filter(action="board.category.added").exists()
    signin = {"email": "cli@example.jp", "password": PASSWORD}
    assert Client().post(f"/{A}/board/signin/", signin).status_code == 302
    with pytest.raises(CommandError, match="すでに登録"):
        call_command("board", "user-create", "--tenant", A, "--email", "CLI@example.jp",
                     "--name", "二人目", "--password", PASSWORD)  # fmt: skip
    with pytest.raises(CommandError, match="分類コード"):
        call_command("board", "category", "--tenant", A, "--code", "商店 街", "--name", "x")
    with tenant_context(B):
        assert not BoardUser.objects.filter(email_key="cli@example.jp").exists()


def test_categories_need_a_moderator(make_staff, municipality_a, moderator):
    clerk = make_staff(municipality_a, ("shimin", "counter_clerk"))
    with tenant_context(A):
        with pytest.raises(BoardError, match="モデレーター"):
            services.category_save(actor=clerk, code="x", name="x")
        row = services.category_save(actor=moderator, code="chiiki", name="まちの話題")
        assert row.name == "まちの話題" and Category.objects.filter(code="chiiki").count() == 1


def test_moderators_add_and_rename_categories_on_their_page(
    make_staff, municipality_a, moderator, moderator_b, signed_in, client
):
    staff = signed_in(moderator)
    url = f"/{A}/board/staff/categories/"
    response = staff.post(url, {"code": "shotengai", "name": "商店街", "description": "お店"})
    assert response.status_code == 302
    staff.post(url, {"code": "shotengai", "name": "商店街・市場", "description": "お店"})
    assert "商店街・市場" in client.get(f"/{A}/board/c/shotengai/").content.decode()
    assert "shotengai" in staff.get(f"/{A}/board/staff/").content.decode()
    # Bad input, another role, another municipality: nothing changes.
    staff.post(url, {"code": "Bad Code", "name": "x"})
    clerk = make_staff(municipality_a, ("shimin", "counter_clerk"))
    assert signed_in(clerk).post(url, {"code": "clerk", "name": "x"}).status_code == 403
    assert signed_in(moderator_b).post(url, {"code": "other", "name": "x"}).status_code == 403
    with tenant_context(A):
        assert not Category.objects.filter(code__in=["clerk", "other"]).exists()
        assert Category.objects.filter(code="bad-code").count() == 0
        assert AuditEntry.objects.filter(action="board.category.changed").count() == 1
    with tenant_context(B):
        assert not Category.objects.filter(code="shotengai").exists()
