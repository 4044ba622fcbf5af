"""Public comment pages over HTTP: the public list and page, the form (bad input per field,
honeypot, after the period), the result without personal data, the staff's screens and
who is refused (another department 403, another municipality 403, unknown 404)."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.template.defaultfilters import filesizeformat
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from machi.audit.models import AuditEntry
from machi.publiccomment import services
from machi.publiccomment.models import Comment, Consultation, IdentityRule
from machi.publiccomment.services import Submission
from machi.tenancy.context import tenant_alias, tenant_context

from .conftest import PDF, A, B

pytestmark = pytest.mark.django_db(databases="__all__")

LIST = f"/{A}/public-comment/"
STAFF = f"/{A}/public-comment/staff/"


def page(pk: int, lg: str = A) -> str:
    return f"/{lg}/public-comment/{pk}/"


def staff_page(pk: int, lg: str = A) -> str:
    return f"/{lg}/public-comment/staff/{pk}/"


def post_comment(client: Client, pk: int, **fields):
    data = {"body": "賛成です。", "name": "", "address": "", "contact": "", "website": ""}
    data.update(fields)
    return client.post(page(pk), data)


def test_public_list_and_page(make_consultation):
    open_ = make_consultation()
    draft = make_consultation(publish=False, title="未公示の案")
    response = Client().get(LIST)
    html = response.content.decode()
    assert (
        response.status_code == 200 and "第3次総合計画（案）" in html and "未公示の案" not in html
    )
    assert Client().get(page(draft.pk)).status_code == 404
    html = Client().get(page(open_.pk)).content.decode()
    assert "意見募集中" in html and "計画案本文" in html and "(PDF" not in html
    assert 'enctype="multipart/form-data"' in html and "受付番号" not in html
    with tenant_context(A):
        document = Consultation.objects.get(pk=open_.pk).documents.get()
    pdf = Client().get(f"{page(open_.pk)}documents/{document.pk}/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content == PDF and pdf["X-Content-Type-Options"] == "nosniff"


def test_english_through_the_language_switch(make_consultation):
    c = make_consultation()
    client = Client()
    switched = client.get(page(c.pk) + "?lang=en")
    assert switched.status_code == 302 and switched["Location"] == page(c.pk)
    html = client.get(page(c.pk)).content.decode()
    assert '<html lang="en">' in html


def test_submit_gives_a_receipt_number(make_consultation):
    c = make_consultation()
    client = Client()
    response = post_comment(client, c.pk, name="山田花子", contact="03-0000-0000")
    assert response.status_code == 302 and response["Location"].endswith("/done/")
    with tenant_context(A):
        comment = Comment.objects.get()
    done = client.get(response["Location"]).content.decode()
    assert comment.receipt_number in done
    # Another browser has no receipt to see.
    assert Client().get(response["Location"]).status_code == 302


def test_the_form_needs_csrf(make_consultation):
    c = make_consultation()
    client = Client(enforce_csrf_checks=True)
    assert post_comment(client, c.pk).status_code == 403
    with tenant_context(A):
        assert not Comment.objects.exists()


@pytest.mark.parametrize(
    ("fields", "name", "message"),
    [
        ({"body": ""}, "body", "ご意見を入力してください。"),
        ({"body": "あ" * 8001}, "body", "8000文字以内"),
        ({"name": ""}, "name", "氏名（名称）を入力してください。"),
        ({"address": ""}, "address", "住所（所在地）を入力してください。"),
        ({"contact": "x" * 201}, "contact", ""),
        ({"website": "http://spam.example"}, "website", "何も入力しないでください"),
        (
            {"attachment": SimpleUploadedFile("a.pdf", b"<script>alert(1)</script>")},
            "attachment",
            "PDF・PNG・JPEG",
        ),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(make_consultation, fields, name, message):
    c = make_consultation(identity_rule=IdentityRule.REQUIRED)
    values = {"name": "山田花子", "address": "千代田区丸の内1-1", **fields}
    response = post_comment(Client(), c.pk, **values)
    html = response.content.decode()
    assert response.status_code == 400
    assert f'href="#id_{name}"' in html and message in html
    assert f'aria-describedby="id_{name}_error' in html and 'aria-invalid="true"' in html
    with tenant_context(A):
        assert not Comment.objects.exists()


def test_html_is_stored_as_text_and_shown_escaped_to_staff(make_consultation, planner, signed_in):
    c = make_consultation()
    post_comment(Client(), c.pk, body="<script>alert(1)</script>意見")
    with tenant_context(A):
        assert Comment.objects.get().body == "<script>alert(1)</script>意見"
    html = signed_in(planner).get(staff_page(c.pk)).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;意見" in html and "<script>alert(1)" not in html


def test_no_comment_after_the_end_at_the_exact_boundary(make_consultation):
    c = make_consultation()
    with time_machine.travel(c.ends_at - datetime.timedelta(microseconds=1), tick=False):
        assert post_comment(Client(), c.pk).status_code == 302
    with time_machine.travel(c.ends_at, tick=False):
        html = Client().get(page(c.pk)).content.decode()
        assert "募集終了" in html and 'name="body"' not in html
        refused = post_comment(Client(), c.pk, body="締切後の意見")
        assert (
            refused.status_code == 409 and "意見の募集は終了しました。" in refused.content.decode()
        )
    with tenant_context(A):
        assert Comment.objects.count() == 1


def test_no_comment_before_the_start(make_consultation):
    c = make_consultation(timezone.localdate() + datetime.timedelta(days=3))
    html = Client().get(page(c.pk)).content.decode()
    assert "募集開始前" in html and 'name="body"' not in html
    assert post_comment(Client(), c.pk).status_code == 409
    with tenant_context(A):
        assert not Comment.objects.exists()


PEOPLE = [
    ("山田花子", "千代田区丸の内一丁目1番1号", "hanako@example.jp", "駅前の駐輪場が足りません。"),
    ("株式会社マチ商事", "千代田区神田錦町三丁目", "03-1234-5678", "商店街の活性化策を求めます。"),
]


def test_result_published_without_personal_data(make_consultation, planner, signed_in):
    c = make_consultation()
    for name, address, contact, body in PEOPLE:
        post_comment(Client(), c.pk, name=name, address=address, contact=contact, body=body)
    with time_machine.travel(c.ends_at + datetime.timedelta(days=1), tick=False):
        client = signed_in(planner)  # a session from before would have expired
        staff_html = client.get(staff_page(c.pk)).content.decode()
        assert PEOPLE[0][0] in staff_html and PEOPLE[1][1] in staff_html  # staff see them
        assert (
            client.post(
                staff_page(c.pk) + "group/",
                {
                    "summary": "自転車と商店街への意見",
                    "view": "駐輪場は令和9年度に整備します。",
                    "draft_changed": "on",
                },
            ).status_code
            == 302
        )
        with tenant_context(A):
            group = Consultation.objects.get(pk=c.pk).groups.get()
            ids = [str(pk) for pk in Comment.objects.values_list("pk", flat=True)]
        moved = client.post(staff_page(c.pk) + "assign/", {"group": str(group.pk), "comments": ids})
        assert moved.status_code == 302
        assert client.post(staff_page(c.pk) + "result/", {"note": ""}).status_code == 302
        public = Client().get(page(c.pk)).content.decode()
        listing = Client().get(LIST).content.decode()
    assert "自転車と商店街への意見" in public and "駐輪場は令和9年度に整備します。" in public
    assert "2件" in public and "2人・団体" in public and "結果公示" in public
    for name, address, contact, body in PEOPLE:
        for secret in (name, address, contact, body):
            assert secret not in public and secret not in listing
    with tenant_context(A):
        assert AuditEntry.objects.filter(action="publiccomment.comments.viewed").exists()
    # The result page stays public, long after.
    with time_machine.travel(c.ends_at + datetime.timedelta(days=800), tick=False):
        assert "自転車と商店街への意見" in Client().get(page(c.pk)).content.decode()


def test_staff_drafts_attaches_and_publishes(planner, signed_in):
    client = signed_in(planner)
    first = timezone.localdate()
    short = client.post(
        STAFF + "new/",
        {
            "title": "景観条例（案）",
            "summary": "景観を守る条例です。",
            "department": "kikaku",
            "first_day": first.isoformat(),
            "last_day": (first + datetime.timedelta(days=9)).isoformat(),
            "identity_rule": "required",
        },
    )
    assert short.status_code == 400 and 'href="#id_short_period_reason"' in short.content.decode()
    created = client.post(
        STAFF + "new/",
        {
            "title": "景観条例（案）",
            "summary": "景観を守る条例です。",
            "department": "kikaku",
            "first_day": first.isoformat(),
            "last_day": "",
            "identity_rule": "optional",
        },
    )
    assert created.status_code == 302
    with tenant_context(A):
        c = Consultation.objects.get()
    assert c.last_day == first + datetime.timedelta(days=29)
    refused = client.post(staff_page(c.pk) + "publish/")
    assert refused.status_code == 400 and "PDF" in refused.content.decode()
    fake = client.post(
        staff_page(c.pk) + "document/",
        {"title": "条例案", "file": SimpleUploadedFile("x.pdf", b"GIF89a not a pdf")},
    )
    assert fake.status_code == 400 and "PDF ファイルではありません" in fake.content.decode()
    ok = client.post(
        staff_page(c.pk) + "document/",
        {"title": "条例案", "file": SimpleUploadedFile("jourei.pdf", PDF)},
    )
    assert ok.status_code == 302
    assert client.post(staff_page(c.pk) + "publish/").status_code == 302
    html = Client().get(page(c.pk)).content.decode()
    with translation.override("ja"):
        size = filesizeformat(len(PDF))
    assert "条例案" in html and f"（PDF、{size}）" in html
    with tenant_context(A):
        actions = list(
            AuditEntry.objects.filter(object_type="consultation").values_list("action", flat=True)
        )
    assert actions == [
        "publiccomment.consultation.created",
        "publiccomment.document.added",
        "publiccomment.consultation.published",
    ]


def test_other_department_other_municipality_and_unknown(
    make_consultation, kankyo_staff, planner_b, make_staff, municipality_a, signed_in
):
    c = make_consultation()
    other = signed_in(kankyo_staff)
    assert other.get(staff_page(c.pk)).status_code == 403
    assert other.post(staff_page(c.pk) + "publish/").status_code == 403
    assert other.get(f"{staff_page(c.pk)}documents/1/").status_code == 403
    assert c.title not in other.get(STAFF).content.decode()
    foreign = signed_in(planner_b)
    assert foreign.get(staff_page(c.pk)).status_code == 403
    assert foreign.get(STAFF).status_code == 403
    assert foreign.get(staff_page(c.pk, lg=B)).status_code == 404  # not in B's database
    assert Client().get(page(c.pk, lg=B)).status_code == 404
    clerk = signed_in(make_staff(municipality_a, ("shimin", "counter_clerk")))
    assert clerk.get(STAFF).status_code == 403
    assert signed_in(kankyo_staff).get(staff_page(999999)).status_code == 404
    anonymous = Client().get(staff_page(c.pk))
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connections[tenant_alias(A)]) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_query_counts_on_the_lists_do_not_grow(make_consultation, planner, signed_in):
    staff = signed_in(planner)
    make_consultation()
    few = (_queries(Client(), LIST), _queries(staff, STAFF))
    for n in range(5):
        c = make_consultation(title=f"案{n}")
        with tenant_context(A):
            services.comment_submit(consultation=c, submission=Submission(body="意見"))
    assert (_queries(Client(), LIST), _queries(staff, STAFF)) == few
