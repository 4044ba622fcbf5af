"""One visit's dates look the same on a staff page, in a PDF and on the public status
page (issue 12 part 2 item 1): 和暦 through the one formatter, ``machi.japanese.format_date``
(the staff and public pages through the ``jdate`` filter, the PDFs directly)."""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from machi.counter.documents import document_render
from machi.counter.services.intake import life_event_confirm
from machi.counter.tests.test_documents import A, family, flat
from machi.tenancy.context import tenant_context

pytestmark = [
    pytest.mark.django_db(databases="__all__"),
    pytest.mark.skipif(
        shutil.which("pdftotext") is None,
        reason="pdftotext (poppler-utils) is not installed: PDF text not checked",
    ),
]

JST = ZoneInfo("Asia/Tokyo")
EVENT = "令和8年12月1日"  # 2026-12-01, the 転入 date
FILED = "令和8年12月3日"  # the day of the visit (opened_at)
NOT_SHOWN = ("2026-12-01", "2026年12月1日", "R8.12.1", "2026/12/01")


@pytest.fixture
def visit(make_staff, municipality_a, time_machine):
    time_machine.move_to(datetime.datetime(2026, 12, 3, 10, tzinfo=JST), tick=False)
    clerk = make_staff(municipality_a, ("shimin", "counter_clerk"), username="date-clerk")
    data = family()
    data["event"]["date"] = "2026-12-01"
    with tenant_context(A):
        visit = life_event_confirm(data=data, actor=clerk).visit
    return visit, clerk


def _page_text(response) -> str:
    """The page's text without tags and whitespace (as ``flat`` makes a PDF's)."""
    assert response.status_code == 200
    return flat(re.sub(r"<[^>]+>", "", response.content.decode()))


def _pdf_text(pdf: bytes, tmp_path, name: str) -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return flat(out.stdout.decode("utf-8"))


def _pdf(visit, clerk, name: str) -> bytes:
    with tenant_context(A):
        return document_render(visit=visit, name=name, actor=clerk, status_url="https://x/s/")


def test_staff_page_pdf_and_public_page_show_the_event_date_alike(visit, signed_in, tmp_path):
    visit, clerk = visit
    staff_page = _page_text(signed_in(clerk).get(f"/{A}/visits/{visit.public_code}/documents/"))
    public_page = _page_text(
        Client().get(f"/{A}/visits/{visit.public_code}/", HTTP_ACCEPT_LANGUAGE="ja")
    )
    form = _pdf_text(_pdf(visit, clerk, "jumin_idou_todoke"), tmp_path, "jumin")
    summary = _pdf_text(_pdf(visit, clerk, "visit_summary"), tmp_path, "summary")

    assert f"転入（{EVENT}）" in staff_page
    assert f"転入（{EVENT}）" in public_page
    assert f"異動日{EVENT}" in form
    assert f"転入（{EVENT}（火））" in summary  # the summary adds the weekday
    assert f"受付日{FILED}" in public_page
    assert f"受付日{FILED}（木）" in summary
    for text in (staff_page, public_page, form):
        for other in NOT_SHOWN:
            assert other not in text, other


def test_the_public_page_in_english_is_not_the_pdf_form(visit, tmp_path):
    """The PDFs are Japanese forms whatever the language of the screens; an English
    screen shows its own form of the same date (never a mixture)."""
    visit, clerk = visit
    public = _page_text(
        Client().get(f"/{A}/visits/{visit.public_code}/", HTTP_ACCEPT_LANGUAGE="en")
    )
    assert "1Dec2026" in public
    assert EVENT not in public
    form = _pdf_text(_pdf(visit, clerk, "jumin_idou_todoke"), tmp_path, "jumin")
    assert EVENT in form


def test_a_register_date_with_an_unknown_day_prints_as_the_screens_show_it(
    make_staff, municipality_a, tmp_path
):
    """A birth date 昭和62年2月日不詳 (allowed by the registry) is printed as written, not
    as a made-up day."""
    clerk = make_staff(municipality_a, ("shimin", "counter_clerk"), username="date-clerk-2")
    data = family()
    data["persons"][1]["birth_date"] = "昭和62年2月日不詳"
    with tenant_context(A):
        visit = life_event_confirm(data=data, actor=clerk).visit
    form = _pdf_text(_pdf(visit, clerk, "jumin_idou_todoke"), tmp_path, "jumin")
    assert "昭和62年2月日不詳" in form
    assert "昭和62年2月1日" not in form
