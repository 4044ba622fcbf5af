"""Residents' photos: the type is read from the content (Pillow), never from the name,
and every photo is re-encoded as a new JPEG, so nothing of the original file's metadata
(EXIF: GPS position, camera and phone model, serial numbers) reaches the storage.

Files live in the municipality's own folder, ``MEDIA_ROOT/<lg_code>/requests/``.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from machi.tenancy.context import current_lg_code

MAX_PHOTOS = 3
MAX_BYTES = 8 * 1024 * 1024  # per photo, as uploaded
MAX_PIXELS = 40_000_000  # a decompression bomb is refused before decoding
MAX_SIDE = 2048  # stored photos are scaled down to this
FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


class PhotoError(ValueError):
    pass


@dataclass(frozen=True)
class Photo:
    data: bytes  # the re-encoded JPEG
    width: int
    height: int


def storage() -> FileSystemStorage:
    """The current municipality's photo storage."""
    return FileSystemStorage(location=Path(settings.MEDIA_ROOT) / current_lg_code() / "requests")


def clean(upload) -> Photo:
    """Check one upload and re-encode it; PhotoError with a reason otherwise."""
    if upload.size > MAX_BYTES:
        raise PhotoError(_("写真は1枚%(mb)dMBまでです。") % {"mb": MAX_BYTES // (1024 * 1024)})
    raw = upload.read()
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            kind = probe.format
            width, height = probe.size
            probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise PhotoError(_("写真として読み取れないファイルです（JPEG・PNG・WebP・GIF）。")) from exc
    if kind not in FORMATS:
        raise PhotoError(_("写真は JPEG・PNG・WebP・GIF のいずれかにしてください。"))
    if width * height > MAX_PIXELS:
        raise PhotoError(_("写真の画素数が大きすぎます。"))
    try:
        with Image.open(io.BytesIO(raw)) as image:
            image.load()
            # The EXIF orientation is applied to the pixels: the tag itself is dropped.
            image = ImageOps.exif_transpose(image)
            image = image.convert("RGB")
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            out = io.BytesIO()
            image.save(out, format="JPEG", quality=85, optimize=True)  # no exif= : none kept
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise PhotoError(_("写真として読み取れないファイルです（JPEG・PNG・WebP・GIF）。")) from exc
    return Photo(data=out.getvalue(), width=image.width, height=image.height)


def store(photo: Photo) -> str:
    """Save the re-encoded photo; its name in the municipality's storage."""
    return storage().save(f"photos/{uuid.uuid4().hex}.jpg", ContentFile(photo.data))


def remove(name: str) -> None:
    storage().delete(name)
