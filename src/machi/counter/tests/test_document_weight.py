"""What keeps a visit's PDFs small and quick to print (issue 12 part 5): one embedded
face, subset, and at most 300 KB a page. Times are measured by
``benchmarks/documents.py``, never asserted here."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from machi.counter.documents import document_render, visit_documents
from machi.counter.services.intake import life_event_confirm
from machi.counter.tests.test_documents import A, family
from machi.tenancy.context import tenant_context

pytestmark = [
    pytest.mark.django_db(databases="__all__"),
    pytest.mark.skipif(
        shutil.which("pdffonts") is None or shutil.which("pdfinfo") is None,
        reason="pdffonts/pdfinfo (poppler-utils) are not installed: PDF fonts not checked",
    ),
]

MAX_BYTES_PER_PAGE = 300 * 1024


def _poppler(tool: str, pdf: bytes, tmp_path) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        [tool, str(path)], capture_output=True, check=True, timeout=60, text=True
    )
    return result.stdout


def _fonts(pdf: bytes, tmp_path) -> list[list[str]]:
    """pdffonts' rows: name, type, encoding, emb, sub, uni, … (after the two header lines)."""
    lines = _poppler("pdffonts", pdf, tmp_path).splitlines()[2:]
    return [line.split() for line in lines if line.strip()]


def _pages(pdf: bytes, tmp_path) -> int:
    info = _poppler("pdfinfo", pdf, tmp_path)
    return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))


@pytest.fixture
def rendered(make_staff, municipality_a):
    clerk = make_staff(municipality_a, ("shimin", "counter_clerk"), username="weight-clerk")
    with tenant_context(A):
        visit = life_event_confirm(data=family(), actor=clerk).visit
        names = [document.name for document in visit_documents(visit=visit)]
        return {
            name: document_render(
                visit=visit, name=name, actor=clerk, status_url="https://machi.example.jp/s/"
            )
            for name in names
        }


def test_every_document_embeds_one_subset_face(rendered, tmp_path):
    assert len(rendered) == 4
    for name, pdf in rendered.items():
        fonts = _fonts(pdf, tmp_path)
        assert len(fonts) == 1, (name, fonts)
        row = fonts[0]
        assert "Noto-Sans-CJK-JP" in row[0] and "Bold" not in row[0], (name, row)
        # "emb sub uni": embedded, subset, with a ToUnicode map (text can be copied).
        assert row[-5:-2] == ["yes", "yes", "yes"], (name, row)


def test_every_document_is_at_most_300_kb_a_page(rendered, tmp_path):
    for name, pdf in rendered.items():
        pages = _pages(pdf, tmp_path)
        assert len(pdf) <= MAX_BYTES_PER_PAGE * pages, (name, len(pdf), pages)
