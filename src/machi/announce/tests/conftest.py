import pytest

from machi.tenancy.context import tenant_context

A, B = "131016", "271403"


@pytest.fixture
def author(make_staff, municipality_a):
    return make_staff(municipality_a, ("koho", "web_author"), username="koho-author")


@pytest.fixture
def approver(make_staff, municipality_a):
    return make_staff(
        municipality_a, ("bosai", "web_author"), ("bosai", "web_approver"), username="bosai-lead"
    )


@pytest.fixture
def approver_b(make_staff, municipality_b):
    return make_staff(municipality_b, ("bosai", "web_approver"), username="sakai-bosai")


@pytest.fixture
def in_a(municipality_a):
    with tenant_context(A):
        yield


@pytest.fixture
def draft(approver):
    """make(**fields): a draft in A (Japanese; English too unless ``en=False``)."""
    from machi.announce import services

    def make(*, en: bool = True, lg: str = A, actor=None, **fields):
        fields.setdefault("category", "bousai")
        title = {"ja": fields.pop("title_ja", "避難所を開設しました")}
        body = {"ja": fields.pop("body_ja", "**千代田小学校**を避難所として開設しました。")}
        if en:
            title["en"] = "An evacuation shelter is open"
            body["en"] = "Chiyoda Elementary School is open as a shelter."
        with tenant_context(lg):
            return services.announcement_create(
                actor=actor or approver, title=title, body=body, **fields
            )

    return make


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def subscribers():
    """make(n, categories=("bousai",), language="ja"): confirmed subscribers in A."""
    import itertools
    import secrets

    from django.utils import timezone

    from machi.announce.models import Subscriber

    counter = itertools.count(1)

    def make(n: int = 1, *, categories=("bousai",), language: str = "ja"):
        now = timezone.now()
        with tenant_context(A):
            return Subscriber.objects.bulk_create(
                Subscriber(
                    email=f"resident{next(counter)}@example.jp",
                    categories="," + ",".join(categories) + ",",
                    language=language,
                    confirmed_at=now,
                    unsubscribe_token=secrets.token_urlsafe(32),
                    created_at=now,
                )
                for _ in range(n)
            )

    return make


PUBLIC_URL = "https://machi.example.jp"


@pytest.fixture(autouse=True)
def public_url(settings):
    """Links that leave the site (mail, feeds, CAP, ActivityPub ids) need the public host."""
    settings.MACHI_PUBLIC_URL = PUBLIC_URL
