"""What a page may contain: sanitised Markdown (the OWASP cases), images with alt text
(checked and re-encoded by Pillow), PDFs checked by content; search; query counts."""

from __future__ import annotations

import io

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image as PILImage

from machi.site import markup, selectors, services
from machi.site.models import Attachment, Image
from machi.tenancy.context import tenant_context
from machi.testing.xss import XSS_CASES, assert_inert

from .conftest import A
from .isolation import PDF, png

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.mark.parametrize("case", XSS_CASES)
def test_page_bodies_are_inert(publish_page, case):
    page = publish_page("xss", title={"ja": case[:200]}, body={"ja": f"前\n\n{case}\n\n後"})
    html = Client().get(f"/{A}/pages/{page.path}/").content.decode()
    # The frame has its own <meta> tags: check the main part, where the typed text is,
    # as markup only (escaped text such as "&lt;img onerror=…" is text, not a tag).
    assert_inert(_tags_only(html.split("<main", 1)[1].split("</main>", 1)[0]))
    assert_inert(_tags_only(str(markup.render(case, lg_code=A))))
    assert "<title>" in html and "<script" not in html.split("<title>", 1)[1].split("</title>")[0]


def _tags_only(html: str) -> str:
    """The tags and attributes of *html* as parsed by a browser-like parser, no text."""
    from html.parser import HTMLParser

    out: list[str] = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag, attrs):
            values = " ".join(f'{k}="{v or ""}"' for k, v in attrs)
            out.append(f"<{tag} {values}>")

        def handle_endtag(self, tag):
            out.append(f"</{tag}>")

    Tags(convert_charrefs=True).feed(html)
    return "".join(out)


def test_markdown_renders_and_shifts_headings(municipality_a):
    with tenant_context(A):
        html = str(markup.render("# 見出し\n\n- 一\n- 二\n\n[市](https://example.jp/)", lg_code=A))
    assert "<h2>見出し</h2>" in html and "<li>一</li>" in html
    assert 'href="https://example.jp/"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_images_from_elsewhere_are_dropped(municipality_a):
    with tenant_context(A):
        html = str(markup.render("![追跡](https://tracker.example/x.png)", lg_code=A))
    assert "tracker.example" not in html


def test_image_needs_alt_text_and_is_reencoded(author):
    with tenant_context(A):
        with pytest.raises(services.SiteError, match="代替テキスト"):
            services.image_upload(actor=author, data=png(), alt={"ja": "  "})
        assert not Image.objects.exists()
        hidden = png() + b"<script>trailing bytes</script>"
        image = services.image_upload(actor=author, data=hidden, alt={"ja": "赤い四角"})
    assert image.content_type == "image/png" and (image.width, image.height) == (4, 3)
    assert b"<script>" not in bytes(image.content)
    PILImage.open(io.BytesIO(bytes(image.content))).verify()


@pytest.mark.parametrize("data", [b"", b"not an image", PDF, b"\x89PNG\r\n\x1a\nbroken"])
def test_images_that_are_not_images_are_refused(author, data):
    with tenant_context(A), pytest.raises(services.SiteError):
        services.image_upload(actor=author, data=data, alt={"ja": "説明"})
    with tenant_context(A):
        assert not Image.objects.exists()


def test_image_in_a_page_gets_its_alt_text(publish_page, author):
    with tenant_context(A):
        image = services.image_upload(actor=author, data=png(), alt={"ja": "ごみ袋の見本"})
    page = publish_page("bag", body={"ja": f"![](image:{image.pk})"})
    html = Client().get(f"/{A}/pages/{page.path}/").content.decode()
    assert f'<img src="/{A}/site/images/{image.pk}/" alt="ごみ袋の見本">' in html
    response = Client().get(f"/{A}/site/images/{image.pk}/")
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_reference_to_a_missing_image_is_refused(author):
    with tenant_context(A), pytest.raises(services.SiteError, match="画像 999"):
        services.page_create(actor=author, parent=None, slug="x", title={"ja": "x"},
                             body={"ja": "![](image:999)"})  # fmt: skip


@pytest.mark.parametrize(
    ("data", "name"),
    [(b"", "a.pdf"), (b"MZ\x90\x00 an exe", "a.pdf"), (b"%PDF-1.4 truncated", "a.pdf"),
     (png(), "a.pdf")],
)  # fmt: skip
def test_attachments_are_checked_by_content(author, data, name):
    with tenant_context(A), pytest.raises(services.SiteError):
        services.attachment_upload(actor=author, data=data, title="資料", filename=name)
    with tenant_context(A):
        assert not Attachment.objects.exists()


def test_attachment_shown_with_its_size(publish_page, author):
    with tenant_context(A):
        padded = PDF.replace(b"trailer", b" " * 3000 + b"trailer")
        pdf = services.attachment_upload(actor=author, data=padded, title="ごみカレンダー",
                                         filename="calendar")  # fmt: skip
    assert pdf.filename == "calendar.pdf"
    page = publish_page("cal", body={"ja": f"[ごみカレンダー](file:{pdf.pk})"})
    html = Client().get(f"/{A}/pages/{page.path}/").content.decode()
    assert f'href="/{A}/site/files/{pdf.pk}/"' in html and "ごみカレンダー（PDF 3 KB）" in html
    response = Client().get(f"/{A}/site/files/{pdf.pk}/")
    assert response["Content-Type"] == "application/pdf" and bytes(response.content) == pdf.content


def test_search_finds_pages_news_and_faq(publish_page, author):
    from machi.contact.models import FaqCategory, FaqStatus
    from machi.contact.services.faq import faq_answer_save, faq_load_default

    publish_page("sodai", title={"ja": "粗大ごみの出し方"}, body={"ja": "粗大ごみは予約制です。"})
    with tenant_context(A):
        services.news_item_publish(title={"ja": "粗大ごみ受付センターの休業"},
                                   body={"ja": "年末は休みます。"}, category="kurashi",
                                   published_at=timezone.now())  # fmt: skip
        faq_load_default()
        faq_answer_save(category=FaqCategory.objects.order_by("pk").first(),
                        question="粗大ごみはどう出しますか。", answer="電話で予約してください。",
                        actor=author_with_faq(author), status=FaqStatus.PUBLISHED)  # fmt: skip
        kinds = {hit.kind for hit in selectors.site_search(query="粗大ごみ")}
        assert kinds == {"page", "news", "faq"}
        assert selectors.site_search(query="存在しない語句ですよ") == []
    response = Client().get(f"/{A}/search/?q=粗大ごみ")
    text = response.content.decode()
    assert "粗大ごみの出し方" in text and "粗大ごみ受付センターの休業" in text
    assert response["Cache-Control"] == "no-cache"


def author_with_faq(author):
    from machi.accounts.services import staff_create

    return staff_create(username="faq-editor", display_name="FAQ 編集",
                        password="machi-pass-word-1",
                        municipality=author.municipality,
                        memberships=[("kikaku", "department_staff")])  # fmt: skip


def test_search_does_not_find_unpublished_pages(author):
    with tenant_context(A):
        services.page_create(actor=author, parent=None, slug="secret", title={"ja": "内部資料"},
                             body={"ja": "内部資料の本文"})  # fmt: skip
        assert selectors.site_search(query="内部資料") == []


def test_news_list_query_count_does_not_grow(municipality_a):
    with tenant_context(A):
        for i in range(30):
            services.news_item_publish(title={"ja": f"お知らせ{i}", "en": f"News {i}"},
                                       body={"ja": "本文"}, category="kurashi",
                                       published_at=timezone.now())  # fmt: skip
    connection = connections[f"tenant_{A}"]
    client = Client()
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"/{A}/news/?page=2").status_code == 200
    with tenant_context(A):
        for i in range(30):
            services.news_item_publish(title={"ja": f"追加{i}"}, body={"ja": "本文"},
                                       category="bosai", published_at=timezone.now())  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        assert client.get(f"/{A}/news/").status_code == 200
    # state, sections, count, the page's rows: the same however many items
    assert len(many) == len(few) <= 5, [q["sql"] for q in many]
