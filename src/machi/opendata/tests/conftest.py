import pytest

from machi.tenancy.context import tenant_context

A, B = "131016", "271403"


@pytest.fixture
def author(make_staff, municipality_a):
    return make_staff(municipality_a, ("kikaku", "web_author"), username="od-author")


@pytest.fixture
def approver(make_staff, municipality_a):
    return make_staff(municipality_a, ("kikaku", "web_approver"), username="od-approver")


@pytest.fixture
def clerk(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "counter_clerk"), username="od-clerk")


@pytest.fixture
def approver_b(make_staff, municipality_b):
    return make_staff(municipality_b, ("kikaku", "web_approver"), username="od-approver-b")


@pytest.fixture
def in_a(municipality_a):
    with tenant_context(A):
        yield


CSV_UTF8 = (
    "施設名,住所,緯度,経度\r\n"
    "中央図書館,千代田区1-1,35.68,139.75\r\n"
    "区民会館,千代田区2-2,35.69,139.76\r\n"
).encode()


@pytest.fixture
def published(in_a):
    """A generated dataset in A, published with one CSV resource."""
    from machi.opendata.services import ResourceIn, dataset_publish

    return dataset_publish(
        slug="facilities", title="公共施設一覧", notes="区の公共施設です。",
        tags=["施設", "公共施設"], frequency="ANNUAL",
        resources=[ResourceIn(name="公共施設一覧", format="CSV", content=CSV_UTF8,
                              media_type="text/csv")],
    )  # fmt: skip
