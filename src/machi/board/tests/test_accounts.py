import datetime
import re

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from machi.audit.models import AuditEntry
from machi.board import services
from machi.board.models import BoardUser, ResidenceCode
from machi.board.services import BoardError
from machi.board.sessions import SESSION_KEY
from machi.board.tests.conftest import PASSWORD
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")
A, B = "131016", "271403"


def test_registration_and_confirmation_through_smtp(client, smtp_server, settings, municipality_a):
    settings.MACHI_PUBLIC_URL = "https://machi.example.jp"
    response = client.post(
        f"/{A}/board/register/",
        {"email": "Hanako@Example.jp", "display_name": "はなこ", "password": PASSWORD},
    )
    assert response.status_code == 200 and "確認のメールを送りました" in response.content.decode()
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "Hanako@Example.jp"
    link = re.search(r"https://machi\.example\.jp(/\S+/confirm/\S+/)", mail.get_content())[1]
    with tenant_context(A):
        user = BoardUser.objects.get()
        assert user.confirmed_at is None and user.password != PASSWORD  # hashed
    # Following the link (GET) confirms nothing: a mail scanner may open it.
    assert client.get(link).status_code == 200
    with tenant_context(A):
        assert BoardUser.objects.get().confirmed_at is None
    assert client.post(link).status_code == 200
    with tenant_context(A):
        assert BoardUser.objects.get().confirmed_at is not None
    assert client.post(link).status_code == 404  # the link is used up
    # Signing in with the other case of the address works; a second registration of the
    # same address changes nothing and only mails the owner.
    signed = Client()
    response = signed.post(
        f"/{A}/board/signin/", {"email": "hanako@example.jp", "password": PASSWORD}
    )
    assert response.status_code == 302
    response = Client().post(
        f"/{A}/board/register/",
        {"email": "hanako@example.jp", "display_name": "別人", "password": "other-pass-9876"},
    )
    assert "確認のメールを送りました" in response.content.decode()
    mails = smtp_server.wait_for(2)
    assert "すでに登録されています" in mails[1].get_content()
    with tenant_context(A):
        assert BoardUser.objects.get().display_name == "はなこ"


@pytest.mark.parametrize(
    ("email", "name", "password", "message"),
    [
        ("not-an-address", "はなこ", PASSWORD, "メールアドレスが正しくありません"),
        ("a@example.jp", "", PASSWORD, "表示名を入力"),
        ("a@example.jp", "市役所公式", PASSWORD, "この表示名は使えません"),
        ("a@example.jp", "はなこ", "1234", "短すぎ"),
        ("a@example.jp", "はなこ", "password", "一般的すぎ"),
    ],
)
def test_bad_registration_is_refused(client, municipality_a, email, name, password, message):
    response = client.post(
        f"/{A}/board/register/", {"email": email, "display_name": name, "password": password}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    with tenant_context(A):
        assert not BoardUser.objects.exists()


def test_confirmation_link_expires(municipality_a):
    with tenant_context(A):
        registered = services.user_register(
            email="late@example.jp", display_name="おそい", password=PASSWORD
        )
        later = timezone.now() + services.CONFIRM_VALID + datetime.timedelta(minutes=1)
        assert services.user_confirm(token=registered.token, now=later) is None


def test_sign_in_is_rate_limited_in_the_database(make_user, municipality_a):
    user = make_user()
    for _ in range(services.SIGN_IN_FAILURES):
        response = Client().post(f"/{A}/board/signin/", {"email": user.email, "password": "x"})
        assert response.status_code == 400
    # The right password is refused too while the limit holds, from another client.
    response = Client().post(f"/{A}/board/signin/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    with time_machine.travel(timezone.now() + services.SIGN_IN_WINDOW, tick=False):
        response = Client().post(f"/{A}/board/signin/", {"email": user.email, "password": PASSWORD})
        assert response.status_code == 302


def test_board_session_gives_no_staff_rights(make_user, board_client):
    client = board_client(make_user())
    assert SESSION_KEY in client.session and "_auth_user_id" not in client.session
    for url in (f"/{A}/home/", f"/{A}/board/staff/", f"/{A}/board/staff/residence-code/",
                f"/{A}/residents/"):  # fmt: skip
        response = client.get(url)
        assert response.status_code in (302, 404), url
        if response.status_code == 302:
            assert "/login/" in response.url, (url, response.url)


def test_a_board_user_of_a_is_nobody_at_b(make_user, board_client, municipality_b):
    from machi.board.models import Category

    client = board_client(make_user())
    assert "アカウント" in client.get(f"/{A}/board/").content.decode()
    assert client.get(f"/{B}/board/account/").status_code == 302  # to B's sign-in
    with tenant_context(B):
        category = Category.objects.get(code="chiiki")
        assert not BoardUser.objects.exists()
    response = client.post(
        f"/{B}/board/new/", {"category": category.code, "title": "越境", "body": "本文"}
    )
    assert response.status_code == 302 and "/signin/" in response.url
    # Nor does the address sign in at B: its account lives in A's database only.
    response = Client().post(f"/{B}/board/signin/", {"email": "user1@example.jp",
                                                     "password": PASSWORD})  # fmt: skip
    assert response.status_code == 400


def test_residence_code_from_the_counter(make_user, make_staff, signed_in, municipality_a,
                                         board_client):  # fmt: skip
    clerk = make_staff(municipality_a, ("shimin", "counter_clerk"), username="madoguchi")
    page = signed_in(clerk).post(f"/{A}/board/staff/residence-code/").content.decode()
    code = re.search(r'<strong class="code">([A-Z0-9-]+)</strong>', page)[1]
    with tenant_context(A):
        row = ResidenceCode.objects.get()
        assert row.code_hash != code and row.issued_by == "madoguchi"
        assert AuditEntry.objects.filter(action="board.residence_code.issued",
                                         object_id=str(row.pk)).exists()  # fmt: skip
    user = make_user()
    client = board_client(user)
    response = client.post(
        f"/{A}/board/account/", {"action": "residence", "code": code.lower().replace("-", " ")}
    )
    assert response.status_code == 302
    with tenant_context(A):
        assert BoardUser.objects.get(pk=user.pk).resident_verified_at is not None
        # Used once: a second account cannot use it.
        with pytest.raises(BoardError, match="使用済み"):
            services.residence_code_redeem(user=make_user(), code=code)
    assert "住民確認済み" in client.get(f"/{A}/board/account/").content.decode()


def test_residence_code_expires_and_needs_a_clerk(make_user, make_staff, signed_in, municipality_a,
                                                 moderator):  # fmt: skip
    assert signed_in(moderator).post(f"/{A}/board/staff/residence-code/").status_code == 403
    clerk = make_staff(municipality_a, ("shimin", "counter_clerk"))
    with tenant_context(A):
        code = services.residence_code_issue(actor=clerk)
        user = make_user()
        later = timezone.now() + services.RESIDENCE_CODE_VALID
        with pytest.raises(BoardError):
            services.residence_code_redeem(user=user, code=code, now=later)
        with pytest.raises(BoardError):
            services.residence_code_redeem(user=user, code="AAAA-BBBB-CCCC")
        assert BoardUser.objects.get(pk=user.pk).resident_verified_at is None


def test_no_registry_data_reachable_from_the_board(make_user, board_client, make_thread):
    """The board's pages, its export and its models hold nothing of the registry."""
    from machi.board import models as board_models

    user = make_user()
    make_thread(user)
    for model in vars(board_models).values():
        if isinstance(model, type) and hasattr(model, "_meta"):
            for field in model._meta.get_fields():
                related = getattr(field, "related_model", None)
                assert related is None or related._meta.app_label == "board", (model, field)
    client = board_client(user)
    export = client.post(f"/{A}/board/account/", {"action": "export"}).json()
    assert set(export) == {"account", "posts", "reactions", "follows", "reports", "appeals"}
    assert client.get(f"/{A}/residents/").status_code == 302
    assert client.get(f"/api/v1/{A}/residents?name=高橋").status_code in (401, 403, 404)
