"""Issue 13, done when: "A resident reports a broken street light on the demo municipality
from their phone's browser, it lands in 道路課's queue by area, the answer appears on the
public page and in the resident's mail".

End to end on the demo's own seed (``demo_seed``: the area 千代田区丸の内一丁目 and its
rule 街灯の故障 → 道路課, the demo staff member ``chiyoda-doro``), over HTTP, with the
mail going through a real SMTP server. The phone's browser itself is
tests/browser/test_requests_public.py (a Pixel-sized, touch context).
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from machi.accounts.models import Staff
from machi.requests.models import Request, RequestPhoto, Routing, UpdateKind
from machi.tenancy.context import tenant_alias, tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

A = "131016"
PUBLIC_URL = "https://machi.example.jp"
INSIDE = {"lat": "35.6812", "long": "139.7640"}  # 丸の内一丁目 (the demo's polygon)
OUTSIDE = {"lat": "35.6940", "long": "139.7536"}  # 九段, no demo area there
EMAIL = "hanako@example.jp"


@pytest.fixture(autouse=True)
def _demo(settings, tmp_path):
    from machi.web.demo import demo_seed

    settings.MEDIA_ROOT = tmp_path
    settings.MACHI_PUBLIC_URL = PUBLIC_URL
    cache.clear()
    demo_seed()
    yield
    cache.clear()


def phone_photo() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (120, 160), (30, 30, 40)).save(out, format="JPEG")
    return SimpleUploadedFile("IMG_2048.jpg", out.getvalue(), content_type="image/jpeg")


def link_in(mail, kind: str) -> str:
    body = mail.get_content()
    found = re.search(rf"{re.escape(PUBLIC_URL)}(/\S+/{kind}/\S+/)", body)
    assert found, body
    return found.group(1)


def test_street_light_by_area_to_doros_queue_answer_on_page_and_in_mail(
    smtp_server, signed_in, django_capture_on_commit_callbacks
):
    """Proves: "A resident reports a broken street light on the demo municipality …, it
    lands in 道路課's queue by area, the answer appears on the public page and in the
    resident's mail" (the phone browser part is the browser test)."""
    resident = Client()
    form = resident.get(f"/{A}/requests/new/")
    assert form.status_code == 200 and "街灯の故障" in form.content.decode()
    filed = resident.post(
        f"/{A}/requests/new/",
        {"category": "streetlight", "description": "交差点の街灯が夜になっても点きません。",
         "address": "", **INSIDE, "email": EMAIL, "photos": [phone_photo()]},
        follow=True,
    )  # fmt: skip
    assert filed.status_code == 200
    with tenant_context(A):
        item = Request.objects.select_related("area").get()
        assert RequestPhoto.objects.filter(request=item).count() == 1
    assert item.public_code in filed.content.decode()
    # By area: the demo's rule for this 町丁目, not the category's own department.
    assert (item.department, item.routing, item.area.name) == ("doro", Routing.RULE,
                                                              "千代田区丸の内一丁目")  # fmt: skip

    [confirm] = smtp_server.wait_for(1)
    assert confirm["To"] == EMAIL
    assert resident.post(link_in(confirm, "confirm")).status_code == 200

    doro = signed_in(Staff.objects.get(username="chiyoda-doro"))
    inbox = doro.get(f"/{A}/counter/tasks/").content.decode()
    assert "要望・通報" in inbox and item.public_code in inbox
    staff_page = f"/{A}/requests/staff/{item.pk}/"
    assert staff_page in inbox

    answer = "街灯の電球を12月10日に交換します。"
    on_commit = django_capture_on_commit_callbacks(using=tenant_alias(A), execute=True)
    with on_commit:
        done = doro.post(staff_page + "answer/", {"text": answer, "visibility": "public"})
    assert done.status_code == 302
    with tenant_context(A):
        assert item.updates.filter(kind=UpdateKind.ANSWER, is_public=True, text=answer).exists()

    public = resident.get(f"/{A}/requests/{item.public_code}/").content.decode()
    assert answer in public
    assert EMAIL not in public and "道路 四郎" not in public  # neither reporter nor staff

    mails = smtp_server.wait_for(2)
    followed = mails[1]
    assert followed["To"] == EMAIL
    assert answer in followed.get_content()
    assert f"{PUBLIC_URL}/{A}/requests/{item.public_code}/" in followed.get_content()


def test_outside_the_demo_area_the_category_routes_it_and_other_departments_do_not_see_it(
    signed_in,
):
    """The negative side of "lands in 道路課's queue by area": a street light outside the
    demo polygon is routed by its category (no area), and 道路課's queue is the only
    department queue it reaches."""
    resident = Client()
    response = resident.post(
        f"/{A}/requests/new/",
        {"category": "streetlight", "description": "街灯が点滅しています。", "address": "",
         **OUTSIDE},
    )  # fmt: skip
    assert response.status_code == 302
    with tenant_context(A):
        item = Request.objects.get()
    assert (item.department, item.routing, item.area_id) == ("doro", Routing.CATEGORY, None)
    other = signed_in(Staff.objects.get(username="chiyoda-kosodate"))
    assert item.public_code not in other.get(f"/{A}/counter/tasks/").content.decode()
    assert other.get(f"/{A}/requests/staff/{item.pk}/").status_code == 403
