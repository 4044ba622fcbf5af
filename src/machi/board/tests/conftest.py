import pytest
from django.test import Client

from machi.tenancy.context import tenant_context

A, B = "131016", "271403"
PASSWORD = "kemari-1234-sakura"


@pytest.fixture
def make_user(municipality_a, municipality_b):
    """A confirmed board user of ``lg_code`` (A by default)."""
    from machi.board import services

    counter = iter(range(1, 100_000))

    def make(lg_code: str = A, *, name: str | None = None, **changes):
        n = next(counter)
        with tenant_context(lg_code):
            registered = services.user_register(
                email=f"user{n}@example.jp", display_name=name or f"住民{n}", password=PASSWORD
            )
            user = services.user_confirm(token=registered.token)
            for field, value in changes.items():
                setattr(user, field, value)
            if changes:
                user.save()
        return user

    return make


@pytest.fixture
def board_client():
    """A client signed in to the board of ``lg_code`` as ``user`` (through the form)."""

    def make(user, lg_code: str = A) -> Client:
        client = Client()
        response = client.post(
            f"/{lg_code}/board/signin/", {"email": user.email, "password": PASSWORD}
        )
        assert response.status_code == 302, response.content.decode()[:500]
        return client

    return make


@pytest.fixture
def moderator(make_staff, municipality_a):
    return make_staff(municipality_a, ("koho", "moderator"), username="koho-mod")


@pytest.fixture
def moderator_b(make_staff, municipality_b):
    return make_staff(municipality_b, ("koho", "moderator"), username="sakai-mod")


@pytest.fixture
def category_a(municipality_a):
    from machi.board.models import Category

    with tenant_context(A):
        return Category.objects.get(code="chiiki")


@pytest.fixture
def make_thread(category_a):
    from machi.board import services

    def make(user, title: str = "公園のベンチ", body: str = "壊れています。", **kwargs):
        with tenant_context(A):
            return services.thread_create(
                category=category_a, title=title, body=body, user=user, **kwargs
            )

    return make
