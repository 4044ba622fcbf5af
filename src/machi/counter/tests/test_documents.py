"""Pre-filled forms (書かない窓口, issue 5 item 5): which documents a visit gets, the PDFs'
contents (names exactly as stored, 和暦, no My Number), the pages' permissions and the
audit log.

The text checks read the PDFs with poppler's ``pdftotext`` and are skipped when it is
not installed. Set ``MACHI_TEST_PDF_DIR`` to keep the rendered PDFs for a look.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from unittest import mock

import pytest
from django.db import connections, router
from django.test import Client

from machi.audit.models import AuditEntry
from machi.counter.documents import (
    MY_NUMBER_BOX,
    LocalOnlyURLFetcher,
    document_html,
    document_render,
    html_to_pdf,
    visit_documents,
)
from machi.counter.documents.forms import PLACE_UNKNOWN
from machi.counter.models import Task
from machi.counter.services.intake import life_event_confirm
from machi.japanese import my_number_check_digit
from machi.procedures.engine import default_catalogue
from machi.procedures.services import catalogue_upload
from machi.registry.models import Resident
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

A, B = "131016", "271403"
PDFTOTEXT = shutil.which("pdftotext")
needs_pdftotext = pytest.mark.skipif(
    PDFTOTEXT is None, reason="pdftotext (poppler-utils) is not installed: PDF text not checked"
)

IVS_KATSU = "葛\U000e0100"  # 葛 + VS17 (IVS): the 「ヒ」 form
HEAD = "髙橋 一郎"
PARTNER = "𠮷田 花子"  # 𠮷 (U+20BB7, outside the BMP)
CHILD = f"髙橋 {IVS_KATSU}太"
MY_NUMBER = "12345678901" + my_number_check_digit("12345678901")
PARTNER_MY_NUMBER = "98765432109" + my_number_check_digit("98765432109")
DOCS = ["jumin_idou_todoke", "kokuho_shikaku_shutoku_todoke", "jidou_teate_nintei_seikyu",
        "visit_summary"]  # fmt: skip
ADDRESS = {
    "postal_code": "100-0001", "prefecture": "東京都", "city": "千代田区",
    "machiaza": "千代田", "banchi": "1-1",
}  # fmt: skip


def family(*, civil_servant=False, child_insurance="employee", adults_insurance="kokuho"):
    """A 3-person move in: two adults with kokuho, one 8-year-old (on the event date)."""
    return {
        "event": {"type": "move_in", "date": "2026-04-03", "subjects": ["p1", "p2", "p3"]},
        "persons": [
            {"id": "p1", "name": HEAD, "kana": "タカハシ イチロウ", "sex": "1",
             "birth_date": "1985-06-15", "relationship": "世帯主",
             "insurance": adults_insurance, "my_number": MY_NUMBER,
             "civil_servant": civil_servant},
            {"id": "p2", "name": PARTNER, "kana": "ヨシダ ハナコ", "sex": "2",
             "birth_date": "昭和62年2月1日", "relationship": "妻(未届)",
             "insurance": adults_insurance, "my_number": PARTNER_MY_NUMBER},
            {"id": "p3", "name": CHILD, "kana": "タカハシ カツタ", "sex": "1",
             "birth_date": "2018-01-10", "relationship": "子", "insurance": child_insurance},
        ],
        "answers": {"has_dog": True},
        "address": dict(ADDRESS),
        "previous_address": "大阪府堺市堺区南瓦町3-1",
    }  # fmt: skip


@pytest.fixture
def clerk(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "counter_clerk"), username="doc-clerk")


@pytest.fixture
def visit(clerk):
    with tenant_context(A):
        return life_event_confirm(data=family(), actor=clerk).visit


def _url(visit, name=None):
    base = f"/{A}/visits/{visit.public_code}/documents/"
    return base if name is None else f"{base}{name}.pdf"


def _text(pdf: bytes, tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    if keep := os.environ.get("MACHI_TEST_PDF_DIR"):
        Path(keep).mkdir(parents=True, exist_ok=True)
        (Path(keep) / path.name).write_bytes(pdf)
    result = subprocess.run(
        [PDFTOTEXT, "-enc", "UTF-8", str(path), "-"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return flat(result.stdout.decode("utf-8"))


def flat(text: str) -> str:
    """Without whitespace: table cells wrap and pdftotext splits words at wide spaces."""
    return "".join(text.split())


@pytest.fixture
def texts(visit, clerk, signed_in, tmp_path):
    """Every document of the visit, fetched through the view, as text (flattened: compare
    with ``flat(expected)``)."""
    if PDFTOTEXT is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: PDF text not checked")
    client = signed_in(clerk)
    out = {}
    for name in DOCS:
        started = time.perf_counter()
        response = client.get(_url(visit, name))
        elapsed = (time.perf_counter() - started) * 1000
        print(f"render {name}: {elapsed:.0f} ms")  # reported, not asserted
        assert response.status_code == 200, (name, response.status_code)
        out[name] = _text(response.content, tmp_path, name)
    return out


# --- which documents ----------------------------------------------------------------------


def test_documents_follow_the_tasks(clerk):
    with tenant_context(A):
        full = life_event_confirm(data=family(), actor=clerk).visit
        codes = set(Task.objects.filter(visit=full).values_list("procedure_code", flat=True))
        assert {"kokuho.enroll", "child_allowance.apply"} <= codes
        assert [d.name for d in visit_documents(visit=full)] == DOCS
        documents = {d.name: d for d in visit_documents(visit=full)}
        assert documents["visit_summary"].title == "本日の手続きのご案内"
        assert (
            documents["jumin_idou_todoke"].filename == f"jumin_idou_todoke_{full.public_code}.pdf"
        )

        # a civil servant's child allowance is paid by the employer: no such task, no form
        civil = life_event_confirm(data=family(civil_servant=True), actor=clerk).visit
        assert not Task.objects.filter(visit=civil, procedure_code="child_allowance.apply")
        assert [d.name for d in visit_documents(visit=civil)] == [
            "jumin_idou_todoke", "kokuho_shikaku_shutoku_todoke", "visit_summary"
        ]  # fmt: skip

        # nobody joins kokuho: no kokuho form
        employees = life_event_confirm(data=family(adults_insurance="employee"), actor=clerk).visit
        assert [d.name for d in visit_documents(visit=employees)] == [
            "jumin_idou_todoke", "jidou_teate_nintei_seikyu", "visit_summary"
        ]  # fmt: skip


def test_birth_gets_no_jumin_idou_form(clerk):
    with tenant_context(A):
        result = life_event_confirm(data=family(), actor=clerk)
        head = Resident.objects.get(atena_number=result.atena_numbers["p1"])
        birth = life_event_confirm(
            data={
                "event": {"type": "birth", "date": "2026-05-01", "subjects": ["baby"]},
                "persons": [
                    {"id": "p1", "atena_number": head.atena_number},
                    {"id": "baby", "name": "髙橋 陽", "kana": "タカハシ ハル", "sex": "1",
                     "birth_date": "2026-05-01", "relationship": "子", "insurance": "kokuho"},
                ],
            },
            actor=clerk,
        ).visit  # fmt: skip
        names = [d.name for d in visit_documents(visit=birth)]
    assert "jumin_idou_todoke" not in names
    assert names[-1] == "visit_summary" and "kokuho_shikaku_shutoku_todoke" in names


# --- the PDFs ---------------------------------------------------------------------------------


def test_pdf_response(visit, clerk, signed_in):
    response = signed_in(clerk).get(_url(visit, "visit_summary"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'inline; filename="visit_summary_{visit.public_code}.pdf"'
    )
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF-")


@needs_pdftotext
def test_jumin_idou_todoke(texts):
    text = texts["jumin_idou_todoke"]
    for expected in (
        "住民異動届", "（あて先）千代田区長", "異動日", "令和8年4月3日", "■ 転入", "□ 転出",
        "東京都千代田区千代田1-1", "〒100-0001", "大阪府堺市堺区南瓦町3-1",
        HEAD, PARTNER, CHILD, "タカハシ イチロウ", "ヨシダ ハナコ",
        "昭和60年6月15日",  # 1985-06-15 in 和暦
        "昭和62年2月1日",  # as written
        "平成30年1月10日", "世帯主", "妻(未届)", "届出人署名", MY_NUMBER_BOX,
    ):  # fmt: skip
        assert flat(expected) in text, expected
    assert "■転出" not in text


@needs_pdftotext
def test_names_exactly_as_stored(texts):
    """𠮷 (outside the BMP) and the IVS sequence survive to the PDF text, and the
    look-alikes (吉, 高, 葛 without its selector) are not printed instead."""
    for name, text in texts.items():
        assert "𠮷田" in text, name
        assert "吉田" not in text and "高橋" not in text, name
        if name != "kokuho_shikaku_shutoku_todoke":
            assert flat(CHILD) in text, name
            assert "葛太" not in text, name


@needs_pdftotext
def test_kokuho_lists_only_the_kokuho_persons(texts):
    text = texts["kokuho_shikaku_shutoku_todoke"]
    assert "国民健康保険" in text and "資格取得届" in text
    assert flat(HEAD) in text and flat(PARTNER) in text
    assert flat(CHILD) not in text and "タカハシカツタ" not in text
    assert "資格取得日" in text and "令和8年4月3日" in text
    assert "■転入" in text and "□出生" in text
    assert "大阪府堺市堺区南瓦町3-1" in text  # 前住所


@needs_pdftotext
def test_child_allowance_claim(texts):
    text = texts["jidou_teate_nintei_seikyu"]
    assert "児童手当" in text and "認定請求書" in text
    claimant = text.index("請求者")
    children = text.index("支給対象となる児童")
    assert flat(HEAD) in text[claimant:children]  # the claimant (the task's person)
    assert flat(PARTNER) in text[claimant:children]  # the claimant's partner
    assert flat(CHILD) in text[children:]
    assert "平成30年1月10日" in text
    assert "金融機関名" in text and "口座番号" in text and "請求者署名" in text


@needs_pdftotext
def test_visit_summary(texts, visit):
    text = texts["visit_summary"]
    assert "本日の手続きのご案内" in text
    assert visit.public_code in text
    with tenant_context(A):
        tasks = list(Task.objects.filter(visit=visit))
    for task in tasks:
        assert flat(task.title) in text, task.title
        assert flat(task.department_name) in text, task.department_name
    assert {"市民課", "保険年金課", "子育て支援課", "学校教育課", "環境衛生課"} <= {
        t.department_name for t in tasks
    }
    # deadlines in 和暦 and 西暦 (転入届: 14 days after 2026-04-03)
    assert "令和8年4月17日（金）" in text and "2026年4月17日" in text
    # what to bring and where, from the default catalogue (no override uploaded)
    assert "転出証明書" in text and "犬の鑑札" in text and "在学証明書" in text
    assert flat(default_catalogue().entry("child_allowance.apply").bring[0]) in text
    assert flat(default_catalogue().places["kosodate"]) in text
    # the QR code's target, printed under it: the absolute URL of the public status page
    assert f"http://testserver/{A}/visits/{visit.public_code}/" in text
    assert "本庁舎" in text  # where each department is


# A municipality's own guidance, in its catalogue file (docs/counter.md).
GUIDANCE = """
departments:
  bunka: 文化振興課
places:
  shimin: 新庁舎2階 市民課A窓口
procedures:
  - code: dog.transfer_in
    bring: [犬の鑑札, 注射済票, 犬の写真]
  - code: juki.move_in
    bring_from_abroad: [在留カード]
  - code: library.card
    title: 図書館カードの住所変更
    department: bunka
    events: [move_in]
    applies_to: household
    reason: 転入世帯に図書館カードの案内をします
    bring: [図書館カード]
"""


def _summary_text(client, visit, tmp_path, name, lg_code=A):
    response = client.get(f"/{lg_code}/visits/{visit.public_code}/documents/visit_summary.pdf")
    assert response.status_code == 200
    return _text(response.content, tmp_path, name)


@needs_pdftotext
def test_visit_summary_follows_the_municipality_catalogue(
    clerk, make_staff, municipality_a, municipality_b, signed_in, tmp_path
):
    admin = make_staff(municipality_a, ("shimin", "municipality_admin"))
    with tenant_context(A):
        before = life_event_confirm(data=family(), actor=clerk).visit
        catalogue_upload(text=GUIDANCE, actor=admin, comment="窓口の移転")
        data = family()
        data["event"]["from_abroad"] = True
        after = life_event_confirm(data=data, actor=clerk).visit
    client = signed_in(clerk)

    # printed at print time: an older visit prints the catalogue in force now
    for visit, name in ((before, "before"), (after, "after")):
        text = _summary_text(client, visit, tmp_path, name)
        assert flat("新庁舎2階 市民課A窓口") in text, name
        assert flat(default_catalogue().places["shimin"]) not in text, name
        assert flat(default_catalogue().places["kosodate"]) in text, name  # not overridden
        assert "犬の写真" in text and "注射済票" in text and "狂犬病予防注射済票" not in text
    # the new department has no place; the move from abroad brings its own list
    text = _summary_text(client, after, tmp_path, "after")
    assert "文化振興課" in text and "図書館カード" in text
    assert flat(PLACE_UNKNOWN) in text
    assert "在留カード" in text and "転出証明書" not in text and "パスポート" not in text
    assert "転出証明書" in _summary_text(client, before, tmp_path, "before")

    # isolation: the other municipality still prints the defaults
    clerk_b = make_staff(municipality_b, ("shimin", "counter_clerk"), username="doc-clerk-b")
    with tenant_context(B):
        visit_b = life_event_confirm(data=family(), actor=clerk_b).visit
    text_b = _summary_text(signed_in(clerk_b), visit_b, tmp_path, "other", lg_code=B)
    assert flat(default_catalogue().places["shimin"]) in text_b
    assert "新庁舎" not in text_b and "犬の写真" not in text_b and "図書館カード" not in text_b
    assert "狂犬病予防注射済票" in text_b and flat(PLACE_UNKNOWN) not in text_b


def test_visit_summary_reads_the_catalogue_in_one_statement(
    clerk, make_staff, municipality_a, django_assert_max_num_queries
):
    """The tasks, the residents and the active catalogue version's key: the effective
    catalogue itself is built once per version and process."""
    admin = make_staff(municipality_a, ("shimin", "municipality_admin"))
    with tenant_context(A):
        visit = life_event_confirm(data=family(), actor=clerk).visit
        catalogue_upload(text=GUIDANCE, actor=admin, comment="窓口の移転")
        document_html(visit=visit, name="visit_summary", status_url="x")  # builds the catalogue
        tenant = connections[router.db_for_read(Task)]
        with django_assert_max_num_queries(3, connection=tenant):
            html, _ = document_html(visit=visit, name="visit_summary", status_url="x")
    assert "新庁舎2階 市民課A窓口" in html and "犬の写真" in html


def test_visit_summary_has_the_qr_code(visit, clerk):
    with tenant_context(A):
        html, numbers = document_html(
            visit=visit, name="visit_summary", status_url="https://example.jp/s/"
        )
    assert "<svg" in html and "手続きの進み具合" in html
    assert "https://example.jp/s/" in html
    assert len(numbers) == 3


@needs_pdftotext
def test_no_my_number_anywhere(texts, visit, clerk):
    for name, text in texts.items():
        digits = "".join(ch for ch in text if ch.isdigit())
        assert MY_NUMBER not in digits and PARTNER_MY_NUMBER not in digits, name
        assert MY_NUMBER[:8] not in digits, name
    with tenant_context(A):
        assert Resident.objects.filter(my_number__gt="").count() >= 2  # numbers were seeded
        for name in DOCS:
            html, _ = document_html(visit=visit, name=name, status_url="http://x/")
            assert MY_NUMBER not in html and PARTNER_MY_NUMBER not in html


# --- pages and permissions -----------------------------------------------------------------


def test_documents_page_lists_the_downloads(visit, clerk, signed_in):
    response = signed_in(clerk).get(_url(visit))
    assert response.status_code == 200
    page = response.content.decode()
    for name in DOCS:
        assert _url(visit, name) in page
    assert "児童手当 認定請求書" in page
    assert HEAD not in page  # no personal data on the list page


@pytest.mark.parametrize("role", [("hoken_nenkin", "department_staff"), ("shimin", "supervisor")])
def test_department_staff_and_supervisors_may_print(role, visit, make_staff, municipality_a,
                                                    signed_in):  # fmt: skip
    staff = make_staff(municipality_a, role)
    assert signed_in(staff).get(_url(visit, "visit_summary")).status_code == 200


def test_refusals(visit, clerk, make_staff, municipality_a, municipality_b, signed_in):
    client = signed_in(clerk)
    assert client.get(f"/{A}/visits/AAAA-AAAA-AA/documents/").status_code == 404
    assert client.get(f"/{A}/visits/AAAA-AAAA-AA/documents/visit_summary.pdf").status_code == 404
    assert client.get(_url(visit, "no_such_form")).status_code == 404
    assert client.post(_url(visit, "visit_summary")).status_code == 405
    # an administrator without a working role
    admin = make_staff(municipality_a, ("shimin", "municipality_admin"))
    assert signed_in(admin).get(_url(visit, "visit_summary")).status_code == 403
    # a clerk of another municipality, on A's URL and on their own with A's code
    other = signed_in(make_staff(municipality_b, ("shimin", "counter_clerk")))
    assert other.get(_url(visit, "visit_summary")).status_code in (403, 404)
    assert other.get(_url(visit)).status_code in (403, 404)
    own = f"/{B}/visits/{visit.public_code}/documents/visit_summary.pdf"
    assert other.get(own).status_code == 404
    # anonymous: sent to the login page
    for url in (_url(visit), _url(visit, "visit_summary")):
        response = Client().get(url)
        assert response.status_code == 302 and response.url.startswith("/login/")
    with tenant_context(A):
        assert not AuditEntry.objects.filter(action="document.printed").exists()


def test_a_form_the_visit_does_not_get_is_404(clerk, signed_in):
    with tenant_context(A):
        civil = life_event_confirm(data=family(civil_servant=True), actor=clerk).visit
    client = signed_in(clerk)
    assert client.get(_url(civil, "jidou_teate_nintei_seikyu")).status_code == 404
    assert client.get(_url(civil, "kokuho_shikaku_shutoku_todoke")).status_code == 200


# --- audit -----------------------------------------------------------------------------------


def test_every_rendering_is_audited(visit, clerk, signed_in):
    client = signed_in(clerk)
    for name in DOCS:
        assert client.get(_url(visit, name)).status_code == 200
    with tenant_context(A):
        entries = list(AuditEntry.objects.filter(action="document.printed").order_by("seq"))
        numbers = sorted(visit.atena_numbers)
    assert [e.detail["document"] for e in entries] == DOCS
    for entry in entries:
        assert entry.object_type == "visit" and entry.object_id == visit.public_code
        assert entry.actor_id == clerk.pk
        assert set(entry.detail["atena_numbers"]) <= set(numbers)
        assert entry.detail["atena_numbers"]
        assert "髙橋" not in str(entry.detail) and "𠮷" not in str(entry.detail)
    kokuho = next(e for e in entries if e.detail["document"] == "kokuho_shikaku_shutoku_todoke")
    assert len(kokuho.detail["atena_numbers"]) == 2
    summary = next(e for e in entries if e.detail["document"] == "visit_summary")
    assert summary.detail["atena_numbers"] == numbers


def test_service_renders_and_audits(visit, clerk):
    with tenant_context(A):
        pdf = document_render(visit=visit, name="jumin_idou_todoke", actor=clerk)
        assert pdf.startswith(b"%PDF-")
        assert AuditEntry.objects.filter(
            action="document.printed", detail__document="jumin_idou_todoke"
        ).exists()


# --- offline rendering -------------------------------------------------------------------------


def test_url_fetcher_refuses_everything_not_local():
    fetcher = LocalOnlyURLFetcher()
    assert not fetcher.allows("https://cdn.example.com/noto.css")
    assert not fetcher.allows("http://169.254.169.254/latest/meta-data/")
    assert not fetcher.allows("ftp://example.com/x.png")
    assert not fetcher.allows("file:///etc/passwd")
    assert not fetcher.allows("file://remote-host/share/x.png")
    assert fetcher.allows("data:image/png;base64,iVBORw0KGgo=")
    assert fetcher.allows(Path(__file__).resolve().parent.parent.joinpath(
        "documents", "forms.py").as_uri())  # fmt: skip


def test_rendering_never_opens_a_remote_url():
    html = """<html><head><link rel="stylesheet" href="https://cdn.example.com/x.css">
    <style>@import url("http://example.com/y.css"); @font-face { font-family: X;
    src: url("https://fonts.example.com/x.woff2"); }</style></head>
    <body style="font-family: 'Noto Sans CJK JP'"><img src="http://example.com/a.png">
    <p>髙橋 𠮷田</p></body></html>"""
    with mock.patch("urllib.request.OpenerDirector.open") as opened:
        pdf = html_to_pdf(html)
    assert pdf.startswith(b"%PDF-")
    opened.assert_not_called()


# --- the stylesheets ------------------------------------------------------------------------

DOCUMENT_TEMPLATES = Path(__file__).resolve().parents[1] / "templates/counter/documents"
# Elements that need no user-agent rule: inline by default, or drawn by WeasyPrint's SVG
# renderer (the QR code's svg, path, title).
UA_NOT_NEEDED = {"span", "path"}


def test_the_documents_user_agent_sheet_covers_every_element_the_forms_use(visit):
    """ua.css replaces WeasyPrint's full user-agent stylesheet: an element missing from it
    would lose its default display (a table cell laid out inline)."""
    import re

    from machi.counter.documents.render import PACKAGE_DIR

    ua = (PACKAGE_DIR / "ua.css").read_text()
    selectors = " ".join(re.findall(r"([^{}]*)\{", re.sub(r"/\*.*?\*/", "", ua, flags=re.S)))
    styled = set(re.findall(r"(?<![.#:\w-])([a-z][a-z0-9]*)\b", selectors))
    used = set()
    for template in DOCUMENT_TEMPLATES.glob("*.html"):
        if template.name != "index.html":  # the staff page, not a PDF
            used |= set(re.findall(r"<([a-z][a-z0-9]*)", template.read_text()))
    with tenant_context(A):
        html, _ = document_html(visit=visit, name="visit_summary", status_url="https://x/s/")
    used |= set(re.findall(r"<([a-z][a-z0-9]*)", html))  # with the QR code's SVG
    assert {"table", "td", "br", "svg"} <= used
    assert used - styled - UA_NOT_NEEDED == set()


@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="pdfinfo is not installed")
def test_a_style_inside_a_document_still_applies_over_the_forms_stylesheet(tmp_path):
    """The stylesheet is given to WeasyPrint once parsed; a document's own rules win."""

    def page_size(html: str) -> str:
        path = tmp_path / "page.pdf"
        path.write_bytes(html_to_pdf(html))
        info = subprocess.run(
            ["pdfinfo", str(path)], capture_output=True, check=True, text=True, timeout=60
        ).stdout
        return next(line for line in info.splitlines() if line.startswith("Page size:"))

    assert "595.276 x 841.89" in page_size("<html><body><p>髙橋</p></body></html>")  # forms.css
    assert "419.528 x 595.276" in page_size(
        "<html><head><style>@page { size: A5 }</style></head><body><p>髙橋</p></body></html>"
    )


# --- the whole set at once ------------------------------------------------------------------


def _pages(pdf: bytes) -> int:
    pdfinfo = shutil.which("pdfinfo") or pytest.skip("pdfinfo (poppler-utils) is not installed")
    out = subprocess.run([pdfinfo, "-"], input=pdf, capture_output=True, check=True, timeout=60)
    return int(next(line for line in out.stdout.decode().splitlines() if line.startswith("Pages:"))
               .split()[1])  # fmt: skip


@needs_pdftotext
def test_the_whole_set_prints_as_one_pdf_in_print_order(visit, clerk, signed_in, tmp_path):
    client = signed_in(clerk)
    page = client.get(_url(visit)).content.decode()
    assert f"{_url(visit)}all.pdf" in page and "すべてまとめて印刷" in page
    response = client.get(f"{_url(visit)}all.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    alone = {name: client.get(_url(visit, name)).content for name in DOCS}
    assert _pages(response.content) == sum(_pages(pdf) for pdf in alone.values())
    text = _text(response.content, tmp_path, "all")
    starts = [text.index(_text(alone[name], tmp_path, name)[:40]) for name in DOCS]
    assert starts == sorted(starts)  # 住民異動届, 国保, 児童手当, then the visit summary
    with tenant_context(A):
        combined = AuditEntry.objects.filter(action="document.printed", detail__combined=True)
        assert [e.detail["document"] for e in combined.order_by("seq")] == DOCS


def test_the_whole_set_is_refused_like_each_document(
    visit, make_staff, municipality_a, municipality_b, signed_in
):
    url = f"{_url(visit)}all.pdf"
    admin = make_staff(municipality_a, ("shimin", "municipality_admin"))
    assert signed_in(admin).get(url).status_code == 403
    other = signed_in(make_staff(municipality_b, ("shimin", "counter_clerk")))
    assert other.get(url).status_code in (403, 404)
    assert other.get(f"/{B}/visits/{visit.public_code}/documents/all.pdf").status_code == 404
    assert Client().get(url).status_code == 302
    with tenant_context(A):
        assert not AuditEntry.objects.filter(action="document.printed").exists()
