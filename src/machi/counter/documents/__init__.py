"""Pre-filled forms (書かない窓口): the PDFs a visit gets, filled from the registry and
the intake — 住民異動届, 国民健康保険 資格取得届, 児童手当 認定請求書 and the resident's
visit summary (本日の手続きのご案内, with a QR code to the public status page).

* :func:`visit_documents` — which documents a visit gets;
* :func:`document_render` — one document as PDF bytes (WeasyPrint + Noto CJK, offline),
  audited as ``document.printed``;
* :func:`documents_render_all` — the visit's whole set as one PDF (まとめて印刷).
"""

from machi.counter.documents.forms import (
    MY_NUMBER_BOX,
    TITLES,
    Document,
    DocumentNotFound,
    visit_documents,
)
from machi.counter.documents.render import (
    LocalOnlyURLFetcher,
    document_html,
    document_render,
    documents_render_all,
    html_to_pdf,
)

__all__ = [
    "MY_NUMBER_BOX",
    "TITLES",
    "Document",
    "DocumentNotFound",
    "LocalOnlyURLFetcher",
    "document_html",
    "document_render",
    "documents_render_all",
    "html_to_pdf",
    "visit_documents",
]
