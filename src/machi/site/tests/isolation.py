"""The website's objects for the isolation test (machi.web.tests.objects): a published
page with a pending version, a published news item, an image and a PDF, all made
through the services by the world's staff (an approver of its own approves the page)."""

from __future__ import annotations

import io
import itertools
from typing import Any

from machi.tenancy.context import tenant_context

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
_serial = itertools.count(1)


def png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def _approver(staff: Any) -> Any:
    from machi.accounts.services import staff_create

    return staff_create(
        username=f"site-approver-{staff.municipality.lg_code}-{next(_serial)}",
        display_name="承認 職員", password="machi-test-password-1",
        municipality=staff.municipality, memberships=[("koho", "web_approver")],
    )  # fmt: skip


def site_page(staff: Any) -> Any:
    """A published page (unique path per municipality) and a newer version pending."""
    from machi.site import services

    lg_code = staff.municipality.lg_code
    page = services.page_create(
        actor=staff, parent=None, slug=f"isolation-{lg_code}-{next(_serial)}",
        title={"ja": "分離確認のページ"}, body={"ja": "本文"},
    )  # fmt: skip
    version = page.versions.get()
    services.version_submit(actor=staff, version=version)
    services.version_approve(actor=_approver(staff), version=version)
    newer = services.version_save(actor=staff, owner=page, title={"ja": "分離確認のページ（改）"},
                                  body={"ja": "本文"})  # fmt: skip
    page.refresh_from_db()
    page.newer_version = newer
    return page


def site_news(staff: Any) -> Any:
    from django.utils import timezone

    from machi.site import services

    return services.news_item_publish(
        title={"ja": "分離確認のお知らせ"}, body={"ja": "本文"}, category="kurashi",
        published_at=timezone.now(),
    )  # fmt: skip


def site_image(staff: Any) -> Any:
    from machi.site import services

    return services.image_upload(actor=staff, data=png(), alt={"ja": "赤い四角"})


def site_file(staff: Any) -> Any:
    from machi.site import services

    return services.attachment_upload(actor=staff, data=PDF, title="資料", filename="資料.pdf")


def clash(avoid: str | None, made: Any) -> bool:
    """Whether ``made``'s id (or path, or a version's id) names an object at ``avoid``."""
    from machi.site.models import Attachment, Image, NewsItem, Page, Version

    if avoid is None:
        return False
    model = type(made)
    versions = []
    if model in (Page, NewsItem):
        versions = list(made.versions.values_list("pk", flat=True))
    with tenant_context(avoid):
        if model in (Image, Attachment):
            return model.objects.filter(pk=made.pk).exists()
        return (
            model.objects.filter(pk=made.pk).exists()
            or Version.objects.filter(pk__in=versions).exists()
            or (model is Page and Page.objects.filter(path=made.path).exists())
        )
