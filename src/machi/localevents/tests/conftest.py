import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

from machi.tenancy.context import tenant_context

A, B = "131016", "271403"


@pytest.fixture(autouse=True)
def _fresh_limits(settings):
    settings.MACHI_PUBLIC_URL = "https://machi.example.jp"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def moderator(make_staff, municipality_a):
    return make_staff(municipality_a, ("koho", "moderator"), username="koho-mod")


@pytest.fixture
def author(make_staff, municipality_a):
    return make_staff(municipality_a, ("koho", "web_author"), username="koho-author")


@pytest.fixture
def clerk(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "counter_clerk"), username="shimin-clerk")


@pytest.fixture
def moderator_b(make_staff, municipality_b):
    return make_staff(municipality_b, ("koho", "moderator"), username="sakai-mod")


def day(offset: int = 7) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=offset)


def form_data(**changes) -> dict:
    """A valid POST of the public form."""
    data = {
        "organiser_name": "中央町内会", "email": "chonai@example.jp",
        "title_ja": "夏祭り", "description_ja": "盆踊りと屋台です。", "title_en": "Summer festival",
        "category": "matsuri", "starts_on": day().isoformat(), "ends_on": day().isoformat(),
        "start_time": "17:00", "end_time": "21:00", "place_name": "中央公園",
        "address": "千代田区千代田1-1", "lat": "35.685", "long": "139.753", "fee_yen": "0",
        "contact_name": "山田", "contact_phone": "03-1234-5678",
    }  # fmt: skip
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def make_event(moderator):
    """A residents' group's event in A (or ``lg``): confirmed and approved unless told."""
    from machi.localevents import services
    from machi.localevents.models import Category

    def make(*, lg=A, approve=True, confirm=True, actor=None, **values):
        with tenant_context(lg):
            values.setdefault("title", {"ja": "夏祭り"})
            values.setdefault("description", {"ja": "盆踊りです。"})
            values.setdefault("starts_on", day())
            values.setdefault("ends_on", values["starts_on"])
            values.setdefault("place_name", "中央公園")
            values["category"] = Category.objects.get(code=values.pop("category", "matsuri"))
            sent = services.event_submit(
                data=services.EventData(**values), organiser_name="中央町内会",
                email="chonai@example.jp",
            )  # fmt: skip
            if confirm:
                services.event_confirm(event=sent.event, secret=sent.confirm_secret)
            if approve:
                services.event_approve(event=sent.event, actor=actor or moderator)
            sent.event.refresh_from_db()
            return sent.event

    return make
