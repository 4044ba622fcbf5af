"""Every write of the website: pages, news, versions and their approval, the schedule,
images and PDF files, and the search index.

The workflow: an author (Role.WEB_AUTHOR) saves versions and submits one; an approver
(Role.WEB_APPROVER) who did not write it approves it (it goes live at once or at its
scheduled time) or sends it back with a comment. Rolling back copies an old version
into a new one, which is approved like any other. Approvals, publications and rollbacks
are written to the audit log.
"""

from __future__ import annotations

import datetime
import difflib
import functools
import io
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from machi.accounts.roles import Role
from machi.audit.services import Terminal, audit_append
from machi.contact import search
from machi.site import markup, pagecache
from machi.site.models import (
    LANGUAGE_CODES,
    Attachment,
    Image,
    NewsCategory,
    NewsItem,
    Page,
    SiteState,
    Status,
    Version,
    VersionState,
)
from machi.tenancy.context import current_lg_code, current_tenant_alias


def _tenant_atomic(function: Any) -> Any:
    """The service in one transaction on the municipality's database (a bare
    ``transaction.atomic`` would open it on the control database: row locks on tenant
    tables would then run outside any transaction, which PostgreSQL refuses)."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with transaction.atomic(using=current_tenant_alias()):
            return function(*args, **kwargs)

    return wrapper


FTS_TABLE = "site_search_fts"
TITLE_MAX = 200
BODY_MAX = 100_000
IMAGE_MAX_BYTES = 5 * 1024 * 1024
IMAGE_MAX_PIXELS = 40_000_000
IMAGE_MAX_SIDE = 2000
PDF_MAX_BYTES = 20 * 1024 * 1024
SLUG_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")
SYSTEM_USERNAME = "machi"

# The sections a new municipality's site starts with (slug, title per language).
SECTIONS: tuple[tuple[str, dict[str, str]], ...] = (
    (
        "kurashi",
        {"ja": "くらし・手続き", "ja-easy": "くらし と てつづき", "en": "Living and procedures"},
    ),
    ("kosodate", {"ja": "子育て", "ja-easy": "こそだて", "en": "Children and families"}),
    ("bosai", {"ja": "防災", "ja-easy": "さいがい に そなえる", "en": "Disaster preparedness"}),
    ("kenko", {"ja": "健康・福祉", "ja-easy": "けんこう と ふくし", "en": "Health and welfare"}),
    ("shisei", {"ja": "市政情報", "ja-easy": "まち の しごと", "en": "Municipal government"}),
)


class SiteError(ValidationError):
    """Bad input for the website: nothing was changed."""


def _now() -> datetime.datetime:
    return timezone.now()


def _using() -> str:
    return current_tenant_alias()


def _require(actor: Any, *roles: str) -> None:
    municipality = getattr(actor, "municipality", None)
    if (
        municipality is None
        or municipality.lg_code != current_lg_code()
        or not actor.has_role(*roles)
    ):
        raise PermissionDenied(_("この操作をする役割がありません。"))


def site_state_bump(*, now: datetime.datetime | None = None) -> None:
    """Something the public sees changed: every cached page's validator changes."""
    now = now or _now()
    # Its own (nested) transaction: the row lock needs one, also when a caller such as
    # `machi demo` runs outside any.
    with transaction.atomic(using=current_tenant_alias()):
        # The page cache's stamp moves once the change is visible to other connections
        # (registered inside the block: outside any, on_commit would run at once).
        transaction.on_commit(
            functools.partial(pagecache.site_changed, lg_code=current_lg_code()),
            using=current_tenant_alias(),
        )
        state = SiteState.objects.select_for_update().filter(pk=1).first()
        if state is None:
            SiteState.objects.create(pk=1, changed_at=now, revision=1)
            return
        state.revision += 1
        # Last-Modified has whole seconds: never go backwards, always move on.
        state.changed_at = max(now, state.changed_at + datetime.timedelta(seconds=1))
        state.save(update_fields=["revision", "changed_at"])


# --- text -------------------------------------------------------------------------------


def _clean_text(values: dict[str, str] | None, *, field: str, limit: int) -> dict[str, str]:
    values = values or {}
    unknown = set(values) - set(LANGUAGE_CODES)
    if unknown:
        raise SiteError(
            _("対応していない言語です: %(codes)s") % {"codes": ", ".join(sorted(unknown))}
        )
    cleaned = {}
    for code in LANGUAGE_CODES:
        value = (values.get(code) or "").replace("\r\n", "\n").strip()
        if "\x00" in value:
            raise SiteError(_("使えない文字が含まれています。"))
        if len(value) > limit:
            raise SiteError(
                _("%(field)sが長すぎます（%(limit)s 文字まで）。")
                % {"field": field, "limit": limit}
            )
        if value:
            cleaned[code] = value
    if "ja" not in cleaned:
        raise SiteError(_("日本語の%(field)sは必須です。") % {"field": field})
    return cleaned


def _check_schedule(
    publish_at: datetime.datetime | None, unpublish_at: datetime.datetime | None
) -> None:
    if publish_at and unpublish_at and unpublish_at <= publish_at:
        raise SiteError(_("公開終了日時は公開日時より後にしてください。"))


def _check_assets(body: dict[str, str]) -> None:
    images: set[int] = set()
    files: set[int] = set()
    for text in body.values():
        images |= markup.image_ids(text)
        files |= markup.file_ids(text)
    missing_images = images - set(Image.objects.filter(pk__in=images).values_list("pk", flat=True))
    missing_files = files - set(
        Attachment.objects.filter(pk__in=files).values_list("pk", flat=True)
    )
    if missing_images:
        raise SiteError(
            _("画像 %(ids)s はありません。") % {"ids": ", ".join(map(str, sorted(missing_images)))}
        )
    if missing_files:
        raise SiteError(
            _("ファイル %(ids)s はありません。")
            % {"ids": ", ".join(map(str, sorted(missing_files)))}
        )


# --- search index ----------------------------------------------------------------------


def _rowid(owner: Page | NewsItem) -> int:
    # Pages and news share one FTS table: even rowids are pages, odd ones news.
    return owner.pk * 2 + (1 if isinstance(owner, NewsItem) else 0)


def _index(owner: Page | NewsItem) -> None:
    """Derive the live Japanese text's search terms; on SQLite also the FTS5 row
    (public items only). PostgreSQL's pg_trgm indexes follow the columns."""
    title = (owner.title or {}).get("ja", "")
    body = markup.plain((owner.body or {}).get("ja", ""))
    owner.search_title = search.as_field(search.terms_of(title))
    owner.search_body = search.as_field(search.terms_of(body))
    owner.search_readings = " ".join(search.readings_of(f"{title} {body}"))
    connection = connections[_using()]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [_rowid(owner)])  # noqa: S608
        if owner.status == Status.PUBLISHED:
            cursor.execute(
                f"INSERT INTO {FTS_TABLE}(rowid, title, body) VALUES (%s, %s, %s)",  # noqa: S608
                [_rowid(owner), owner.search_title, owner.search_body],
            )


def _fts_remove(owner: Page | NewsItem) -> None:
    connection = connections[_using()]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [_rowid(owner)])  # noqa: S608


# --- pages -----------------------------------------------------------------------------


def _page_path(parent: Page | None, slug: str) -> str:
    return f"{parent.path}/{slug}" if parent else slug


def _check_slug(slug: str) -> str:
    slug = (slug or "").strip().lower()
    if not slug or len(slug) > 60 or not set(slug) <= SLUG_CHARS or slug.startswith("-"):
        raise SiteError(_("URL名は半角英小文字・数字・ハイフンで 60 文字までです。"))
    return slug


def _next_number(owner: Page | NewsItem) -> int:
    field = "page" if isinstance(owner, Page) else "news"
    last = Version.objects.filter(**{field: owner}).aggregate(n=Max("number"))["n"]
    return (last or 0) + 1


def _version_new(
    *,
    owner: Page | NewsItem,
    actor: Any | None,
    title: dict[str, str],
    body: dict[str, str],
    publish_at: datetime.datetime | None,
    unpublish_at: datetime.datetime | None,
    note: str,
    state: str = VersionState.DRAFT,
    restored_from: int | None = None,
) -> Version:
    field = "page" if isinstance(owner, Page) else "news"
    return Version.objects.create(
        **{field: owner},
        number=_next_number(owner),
        title=title,
        body=body,
        publish_at=publish_at,
        unpublish_at=unpublish_at,
        state=state,
        note=(note or "").strip()[:200],
        author_id=getattr(actor, "pk", None),
        author_username=getattr(actor, "username", "") or SYSTEM_USERNAME,
        created_at=_now(),
        restored_from=restored_from,
    )


@_tenant_atomic
def page_create(
    *,
    actor: Any,
    parent: Page | None,
    slug: str,
    title: dict[str, str],
    body: dict[str, str],
    position: int = 0,
    note: str = "",
) -> Page:
    """A new page (draft) and its first version."""
    _require(actor, Role.WEB_AUTHOR)
    slug = _check_slug(slug)
    title = _clean_text(title, field=_("タイトル"), limit=TITLE_MAX)
    body = _clean_text(body, field=_("本文"), limit=BODY_MAX)
    _check_assets(body)
    path = _page_path(parent, slug)
    if Page.objects.filter(path=path).exists():
        raise SiteError(_("同じURLのページがあります: %(path)s") % {"path": path})
    now = _now()
    page = Page.objects.create(
        parent=parent, slug=slug, path=path, position=max(0, int(position)),
        created_at=now, updated_at=now,
    )  # fmt: skip
    _version_new(owner=page, actor=actor, title=title, body=body, publish_at=None,
                 unpublish_at=None, note=note or _("新規作成"))  # fmt: skip
    return page


@_tenant_atomic
def page_move(*, actor: Any, page: Page, position: int) -> Page:
    _require(actor, Role.WEB_AUTHOR)
    page.position = max(0, int(position))
    page.save(update_fields=["position"])
    site_state_bump()
    return page


@_tenant_atomic
def version_save(
    *,
    actor: Any,
    owner: Page | NewsItem,
    title: dict[str, str],
    body: dict[str, str],
    publish_at: datetime.datetime | None = None,
    unpublish_at: datetime.datetime | None = None,
    note: str = "",
) -> Version:
    """A new draft version of a page or news item; the live text does not change."""
    _require(actor, Role.WEB_AUTHOR)
    title = _clean_text(title, field=_("タイトル"), limit=TITLE_MAX)
    body = _clean_text(body, field=_("本文"), limit=BODY_MAX)
    _check_schedule(publish_at, unpublish_at)
    _check_assets(body)
    return _version_new(owner=owner, actor=actor, title=title, body=body,
                        publish_at=publish_at, unpublish_at=unpublish_at, note=note)  # fmt: skip


@_tenant_atomic
def version_submit(*, actor: Any, version: Version) -> Version:
    _require(actor, Role.WEB_AUTHOR)
    version = Version.objects.select_for_update().get(pk=version.pk)
    if version.state not in (VersionState.DRAFT, VersionState.REJECTED):
        raise SiteError(_("この版は承認を依頼できる状態ではありません。"))
    version.state = VersionState.PENDING
    version.save(update_fields=["state"])
    owner = version.owner
    if owner.status == Status.DRAFT:
        owner.status = Status.PENDING
        owner.save(update_fields=["status"])
    return version


def _go_live(owner: Page | NewsItem, version: Version, *, now: datetime.datetime) -> None:
    owner.title, owner.body = version.title, version.body
    owner.publish_at, owner.unpublish_at = version.publish_at, version.unpublish_at
    owner.live_version = version
    if version.publish_at and version.publish_at > now:
        owner.status = Status.SCHEDULED
    elif version.unpublish_at and version.unpublish_at <= now:
        owner.status = Status.ENDED
    else:
        owner.status = Status.PUBLISHED
        owner.published_at = owner.published_at or version.publish_at or now
    owner.updated_at = now
    _index(owner)
    owner.save()


def _audit(*, action: str, actor: Any | None, owner: Page | NewsItem, terminal: Terminal | None,
           detail: dict | None = None) -> None:  # fmt: skip
    audit_append(
        action=action,
        actor=actor,
        object_type="site.page" if isinstance(owner, Page) else "site.news",
        object_id=str(owner.pk),
        function="site",
        terminal=terminal,
        detail=detail or {},
    )


@_tenant_atomic
def version_approve(
    *, actor: Any, version: Version, comment: str = "", terminal: Terminal | None = None
) -> Version:
    """Approve a version waiting for approval: it becomes the live text (now, or at
    its scheduled time). Nobody approves a version they wrote."""
    _require(actor, Role.WEB_APPROVER)
    version = Version.objects.select_for_update().get(pk=version.pk)
    if version.state != VersionState.PENDING:
        raise SiteError(_("承認待ちの版ではありません。"))
    if version.author_id is not None and version.author_id == actor.pk:
        raise PermissionDenied(_("自分が作成した版は承認できません。"))
    now = _now()
    version.state = VersionState.APPROVED
    version.reviewer_username = actor.username
    version.review_comment = (comment or "").strip()[:2000]
    version.reviewed_at = now
    version.save(update_fields=["state", "reviewer_username", "review_comment", "reviewed_at"])
    owner = version.owner
    _go_live(owner, version, now=now)
    site_state_bump(now=now)
    _audit(action="site.approve", actor=actor, owner=owner, terminal=terminal,
           detail={"version": version.number, "status": owner.status})  # fmt: skip
    if owner.status == Status.PUBLISHED:
        _audit(action="site.publish", actor=actor, owner=owner, terminal=terminal,
               detail={"version": version.number})  # fmt: skip
    return version


@_tenant_atomic
def version_reject(
    *, actor: Any, version: Version, comment: str, terminal: Terminal | None = None
) -> Version:
    _require(actor, Role.WEB_APPROVER)
    comment = (comment or "").strip()
    if not comment:
        raise SiteError(_("差し戻しの理由を書いてください。"))
    version = Version.objects.select_for_update().get(pk=version.pk)
    if version.state != VersionState.PENDING:
        raise SiteError(_("承認待ちの版ではありません。"))
    version.state = VersionState.REJECTED
    version.reviewer_username = actor.username
    version.review_comment = comment[:2000]
    version.reviewed_at = _now()
    version.save(update_fields=["state", "reviewer_username", "review_comment", "reviewed_at"])
    owner = version.owner
    if owner.status == Status.PENDING:
        owner.status = Status.DRAFT
        owner.save(update_fields=["status"])
    _audit(action="site.reject", actor=actor, owner=owner, terminal=terminal,
           detail={"version": version.number})  # fmt: skip
    return version


@_tenant_atomic
def version_rollback(*, actor: Any, version: Version, terminal: Terminal | None = None) -> Version:
    """A new version with an old one's text, submitted for approval at once (an approver
    other than the one who rolled back puts it live)."""
    _require(actor, Role.WEB_AUTHOR, Role.WEB_APPROVER)
    owner = version.owner
    new = _version_new(
        owner=owner, actor=actor, title=version.title, body=version.body,
        publish_at=None, unpublish_at=version.unpublish_at if version.unpublish_at and
        version.unpublish_at > _now() else None,
        note=_("第%(number)s版に戻す") % {"number": version.number},
        state=VersionState.PENDING, restored_from=version.number,
    )  # fmt: skip
    if owner.status == Status.DRAFT:
        owner.status = Status.PENDING
        owner.save(update_fields=["status"])
    _audit(action="site.rollback", actor=actor, owner=owner, terminal=terminal,
           detail={"from": version.number, "version": new.number})  # fmt: skip
    return new


def version_diff(*, old: Version, new: Version) -> list[dict[str, Any]]:
    """Per language and field, the unified diff lines (difflib) of two versions."""
    result = []
    for code in LANGUAGE_CODES:
        for field, label in (("title", _("タイトル")), ("body", _("本文"))):
            a = (getattr(old, field) or {}).get(code, "")
            b = (getattr(new, field) or {}).get(code, "")
            if a == b:
                continue
            lines = list(
                difflib.unified_diff(
                    a.splitlines(), b.splitlines(),
                    fromfile=f"v{old.number}", tofile=f"v{new.number}", lineterm="", n=2,
                )
            )  # fmt: skip
            rows = []
            for line in lines[2:]:
                kind = "add" if line.startswith("+") else "del" if line.startswith("-") else (
                    "hunk" if line.startswith("@@") else "same")  # fmt: skip
                rows.append({"kind": kind, "text": line})
            result.append({"language": code, "field": label, "rows": rows})
    return result


@_tenant_atomic
def item_unpublish(*, actor: Any, owner: Page | NewsItem, terminal: Terminal | None = None) -> None:
    """End the publication now (公開終了); the versions stay."""
    _require(actor, Role.WEB_APPROVER)
    if owner.status not in (Status.PUBLISHED, Status.SCHEDULED):
        raise SiteError(_("公開中ではありません。"))
    now = _now()
    owner.status = Status.ENDED
    owner.updated_at = now
    owner.save(update_fields=["status", "updated_at"])
    _fts_remove(owner)
    site_state_bump(now=now)
    _audit(action="site.unpublish", actor=actor, owner=owner, terminal=terminal)


# --- news ------------------------------------------------------------------------------


@_tenant_atomic
def news_create(
    *,
    actor: Any,
    title: dict[str, str],
    body: dict[str, str],
    category: str,
    publish_at: datetime.datetime | None = None,
    unpublish_at: datetime.datetime | None = None,
) -> NewsItem:
    _require(actor, Role.WEB_AUTHOR)
    if category not in NewsCategory.values:
        raise SiteError(_("分類が正しくありません。"))
    title = _clean_text(title, field=_("タイトル"), limit=TITLE_MAX)
    body = _clean_text(body, field=_("本文"), limit=BODY_MAX)
    _check_schedule(publish_at, unpublish_at)
    _check_assets(body)
    now = _now()
    item = NewsItem.objects.create(category=category, created_at=now, updated_at=now)
    _version_new(owner=item, actor=actor, title=title, body=body, publish_at=publish_at,
                 unpublish_at=unpublish_at, note=_("新規作成"))  # fmt: skip
    return item


@_tenant_atomic
def news_item_publish(
    *,
    title: dict[str, str],
    body: dict[str, str],
    category: str,
    published_at: datetime.datetime,
    announcement_id: int | None = None,
) -> NewsItem:
    """Publish a news item written and approved elsewhere (an announcement, by
    ``machi.announce``): live at once, as an approved version by the system. Publishing
    the same announcement again updates its item (a new version when the text changed)."""
    if category not in NewsCategory.values:
        category = NewsCategory.KURASHI if category != "bousai" else NewsCategory.BOSAI
    title = _clean_text(title, field=_("タイトル"), limit=TITLE_MAX)
    body = _clean_text(body, field=_("本文"), limit=BODY_MAX)
    now = _now()
    item = None
    if announcement_id is not None:
        item = NewsItem.objects.select_for_update().filter(announcement_id=announcement_id).first()
    if item is None:
        item = NewsItem.objects.create(
            category=category, announcement_id=announcement_id, created_at=now, updated_at=now
        )
    elif (
        item.title == title and item.body == body and item.category == category
        and item.status == Status.PUBLISHED
    ):  # fmt: skip
        return item
    version = _version_new(owner=item, actor=None, title=title, body=body, publish_at=None,
                           unpublish_at=None, note=_("お知らせの配信"),
                           state=VersionState.APPROVED)  # fmt: skip
    version.reviewer_username, version.reviewed_at = SYSTEM_USERNAME, now
    version.save(update_fields=["reviewer_username", "reviewed_at"])
    item.category = category
    item.published_at = item.published_at or published_at
    _go_live(item, version, now=now)
    if item.status != Status.PUBLISHED:  # an announcement is live when it is published
        item.status = Status.PUBLISHED
        _index(item)
        item.save()
    site_state_bump(now=now)
    _audit(action="site.publish", actor=None, owner=item, terminal=None,
           detail={"version": version.number, "announcement": announcement_id})  # fmt: skip
    return item


@_tenant_atomic
def news_item_withdraw(*, announcement_id: int) -> None:
    """End the news item of an announcement (公開終了); nothing when there is none."""
    item = NewsItem.objects.select_for_update().filter(announcement_id=announcement_id).first()
    if item is None or item.status == Status.ENDED:
        return
    now = _now()
    item.status = Status.ENDED
    item.updated_at = now
    item.save(update_fields=["status", "updated_at"])
    _fts_remove(item)
    site_state_bump(now=now)
    _audit(action="site.unpublish", actor=None, owner=item, terminal=None,
           detail={"announcement": announcement_id})  # fmt: skip


# --- the schedule ------------------------------------------------------------------------


@_tenant_atomic
def site_schedule_run(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Publish what is due, end what has expired (the periodic task calls it)."""
    now = now or _now()
    counts = {"published": 0, "ended": 0}
    for model in (Page, NewsItem):
        for owner in model.objects.select_for_update().filter(
            status=Status.SCHEDULED, publish_at__lte=now
        ):
            owner.status = Status.PUBLISHED
            owner.published_at = owner.published_at or owner.publish_at
            owner.updated_at = now
            _index(owner)
            owner.save()
            counts["published"] += 1
            _audit(action="site.publish", actor=None, owner=owner, terminal=None,
                   detail={"scheduled": owner.publish_at.isoformat()})  # fmt: skip
        for owner in model.objects.select_for_update().filter(
            status=Status.PUBLISHED, unpublish_at__lte=now
        ):
            owner.status = Status.ENDED
            owner.updated_at = now
            owner.save(update_fields=["status", "updated_at"])
            _fts_remove(owner)
            counts["ended"] += 1
            _audit(action="site.unpublish", actor=None, owner=owner, terminal=None,
                   detail={"scheduled": owner.unpublish_at.isoformat()})  # fmt: skip
    if counts["published"] or counts["ended"]:
        site_state_bump(now=now)
    return counts


# --- images and files --------------------------------------------------------------------


@_tenant_atomic
def image_upload(*, actor: Any, data: bytes, alt: dict[str, str]) -> Image:
    """Check the upload with Pillow and store a re-encoded copy (PNG, or JPEG for
    photographs): metadata and anything hidden after the image are left behind."""
    from PIL import Image as PILImage
    from PIL import ImageOps, UnidentifiedImageError

    _require(actor, Role.WEB_AUTHOR)
    alt = _clean_text(alt, field=_("代替テキスト"), limit=300)
    if not data:
        raise SiteError(_("画像ファイルを選んでください。"))
    if len(data) > IMAGE_MAX_BYTES:
        raise SiteError(_("画像は 5 MB までです。"))
    try:
        with PILImage.open(io.BytesIO(data)) as probe:
            if probe.format not in ("PNG", "JPEG", "GIF", "WEBP"):
                raise SiteError(_("PNG・JPEG・GIF・WebP の画像を選んでください。"))
            if probe.width * probe.height > IMAGE_MAX_PIXELS:
                raise SiteError(_("画像が大きすぎます。"))
            probe.verify()
        with PILImage.open(io.BytesIO(data)) as opened:
            photo = opened.format == "JPEG"
            picture = ImageOps.exif_transpose(opened)
            picture.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE))
            out = io.BytesIO()
            if photo:
                picture.convert("RGB").save(out, format="JPEG", quality=85, optimize=True)
            else:
                mode = "RGBA" if picture.mode in ("RGBA", "LA", "P") else "RGB"
                picture.convert(mode).save(out, format="PNG", optimize=True)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise SiteError(_("画像として読めないファイルです。")) from exc
    content = out.getvalue()
    return Image.objects.create(
        alt=alt, content=content, content_type="image/jpeg" if photo else "image/png",
        width=picture.width, height=picture.height, size=len(content),
        uploaded_by=actor.username, created_at=_now(),
    )  # fmt: skip


def _is_pdf(data: bytes) -> bool:
    """A PDF starts with its header (within the first KB, as readers allow) and ends
    with the end-of-file marker (within the last KB)."""
    return b"%PDF-" in data[:1024] and b"%%EOF" in data[-1024:]


@_tenant_atomic
def attachment_upload(*, actor: Any, data: bytes, title: str, filename: str) -> Attachment:
    _require(actor, Role.WEB_AUTHOR)
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise SiteError(_("資料名を 200 文字までで書いてください。"))
    if not data:
        raise SiteError(_("PDFファイルを選んでください。"))
    if len(data) > PDF_MAX_BYTES:
        raise SiteError(_("PDFは 20 MB までです。"))
    if not _is_pdf(data):
        raise SiteError(_("PDFではないファイルです（中身で判定しています）。"))
    name = "".join(c for c in (filename or "") if c.isprintable() and c not in '/\\"')[-150:]
    if not name.lower().endswith(".pdf"):
        name = f"{name or 'document'}.pdf"
    return Attachment.objects.create(
        title=title, filename=name, content=data, size=len(data),
        uploaded_by=actor.username, created_at=_now(),
    )  # fmt: skip


# --- seed data -------------------------------------------------------------------------


def site_sections_seed(*, now: datetime.datetime | None = None) -> list[Page]:
    """The default sections as published top-level pages (idempotent by path)."""
    now = now or _now()
    created = []
    for position, (slug, title) in enumerate(SECTIONS, start=1):
        if Page.objects.filter(path=slug).exists():
            continue
        body = {"ja": f"{title['ja']}に関する情報をご案内します。"}
        page = Page.objects.create(slug=slug, path=slug, position=position, created_at=now,
                                   updated_at=now)  # fmt: skip
        version = _version_new(owner=page, actor=None, title=title, body=body, publish_at=None,
                               unpublish_at=None, note=_("初期設定"),
                               state=VersionState.APPROVED)  # fmt: skip
        _go_live(page, version, now=now)
        created.append(page)
    if created:
        site_state_bump(now=now)
    return created
