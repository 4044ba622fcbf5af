import datetime

import pytest
from django.utils import timezone

from machi.tenancy.context import tenant_context

A, B = "131016", "271403"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def kikaku(municipality_a, municipality_b):
    """企画課 in both municipalities."""
    from machi.accounts.models import Department

    for m in (municipality_a, municipality_b):
        Department.objects.get_or_create(municipality=m, code="kikaku", defaults={"name": "企画課"})


@pytest.fixture
def planner(make_staff, municipality_a, kikaku):
    return make_staff(municipality_a, ("kikaku", "department_staff"), username="kikaku-staff")


@pytest.fixture
def kankyo_staff(make_staff, municipality_a):
    return make_staff(municipality_a, ("kankyo", "department_staff"), username="kankyo-staff")


@pytest.fixture
def planner_b(make_staff, municipality_b, kikaku):
    return make_staff(municipality_b, ("kikaku", "supervisor"), username="sakai-kikaku")


@pytest.fixture
def make_consultation(planner):
    """A consultation of 企画課 in A; published unless ``publish=False``."""
    from machi.publiccomment import services

    def make(first_day=None, last_day=None, *, publish=True, lg=A, actor=None, **kwargs):
        first_day = first_day or timezone.localdate()
        kwargs.setdefault("title", "第3次総合計画（案）")
        kwargs.setdefault("summary", "今後10年のまちづくりの方針です。")
        with tenant_context(lg):
            consultation = services.consultation_create(
                department="kikaku", first_day=first_day, last_day=last_day,
                actor=actor or planner, now=timezone.now() - datetime.timedelta(days=1), **kwargs,
            )  # fmt: skip
            services.document_add(
                consultation=consultation, title="計画案本文", filename="plan.pdf", content=PDF,
                actor=actor or planner,
            )  # fmt: skip
            if publish:
                consultation = services.consultation_publish(
                    consultation=consultation, actor=actor or planner
                )
        return consultation

    return make
