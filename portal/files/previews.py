"""Previews of photos, so a family sees the picture in the dossier or a conversation instead of
only its name.

The uploaded bytes are never shown inline (portal/files/serve.py sends them as a download).
A preview is a new, small image that Pillow draws from the decoded pixels: no metadata survives
(no GPS position or camera serial from EXIF), whatever else the file carried is gone, and it
is sent as a plain JPEG or PNG. Made when the photo is uploaded, so a page view never writes."""

from __future__ import annotations

import io
import logging
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PIL import Image, ImageFile, ImageOps
from sqlalchemy import select

from portal import db
from portal.files.models import FileContent, FilePreview, StoredFile

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
SIZE = 640  # the longest side, in pixels
# A phone photo is a JPEG of 12-50 million pixels, decoded here at an eighth of its size (JPEG's
# draft mode); other kinds are decoded whole (4 bytes a pixel), so they get a lower bound. More
# than that is a file made to exhaust memory (a few bytes of PNG can claim a billion pixels).
MAX_JPEG_PIXELS = 60_000_000
MAX_OTHER_PIXELS = 16_000_000

log = logging.getLogger(__name__)
_strict = threading.Lock()


@contextmanager
def _whole_images_only() -> Iterator[None]:
    """Decode with Pillow refusing cut-off or broken data. WeasyPrint, once imported (the plan
    PDF), switches Pillow process-wide to drawing whatever it can of a broken image, which
    would give a damaged upload a black or half preview depending on whether a PDF was made
    first. The PDF holds no raster images, so turning that off for this decode changes nothing
    there; the lock keeps two decodes from restoring each other's setting (and the warning filter
    below)."""
    with _strict:
        before = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = before


@dataclass(frozen=True)
class Drawn:
    data: bytes
    content_type: str
    width: int
    height: int


def draw(data: bytes) -> Drawn | None:
    """A small copy of the photo in `data`, or None when it cannot be drawn safely."""
    try:
        with _whole_images_only(), warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size  # from the header: nothing decoded yet
                limit = MAX_JPEG_PIXELS if image.format == "JPEG" else MAX_OTHER_PIXELS
                if not 0 < width * height <= limit:
                    return None
                image.seek(0)  # an animation's first frame
                image.draft("RGB", (SIZE, SIZE))  # JPEG: decode at a reduced scale
                upright = ImageOps.exif_transpose(image)
                has_alpha = upright.mode in ("RGBA", "LA", "PA") or (
                    upright.mode == "P" and "transparency" in upright.info
                )
                small = upright.convert("RGBA" if has_alpha else "RGB")
                small.thumbnail((SIZE, SIZE), Image.Resampling.LANCZOS)
                out = io.BytesIO()
                if has_alpha:
                    small.save(out, "PNG", optimize=True)
                    content_type = "image/png"
                else:
                    small.save(out, "JPEG", quality=80, optimize=True)
                    content_type = "image/jpeg"
                return Drawn(out.getvalue(), content_type, small.width, small.height)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, EOFError):
        # A photo that is damaged or made to hurt still downloads; it only gets no preview.
        log.info("no preview for an image", exc_info=True)
        return None


def make(stored: StoredFile, data: bytes) -> None:
    """Draw and keep the preview of a newly stored photo (nothing for other kinds)."""
    if stored.content_type not in IMAGE_TYPES:
        return
    drawn = draw(data)
    if drawn is None:
        return
    stored.preview_width, stored.preview_height = drawn.width, drawn.height
    db.session.add(FilePreview(file_id=stored.id, content_type=drawn.content_type, data=drawn.data))
    db.session.flush()


def preview_of(stored: StoredFile) -> FilePreview | None:
    if stored.preview_width is None:
        return None
    return db.session.get(FilePreview, stored.id)


def backfill(batch: int = 50) -> tuple[int, int]:
    """Draw the previews of photos stored before there were previews (`flask portal
    draw-previews`); commits per batch. Returns (drawn, photos looked at)."""
    drawn = seen = 0
    after = 0
    while True:
        photos = list(
            db.session.scalars(
                select(StoredFile)
                .where(
                    StoredFile.id > after,
                    StoredFile.content_type.in_(IMAGE_TYPES),
                    StoredFile.preview_width.is_(None),
                )
                .order_by(StoredFile.id)
                .limit(batch)
            )
        )
        if not photos:
            return drawn, seen
        for stored in photos:
            content = db.session.get(FileContent, stored.id)
            if content is not None:
                make(stored, content.data)
                db.session.expunge(content)  # one photo's bytes in memory at a time
            seen += 1
            drawn += stored.preview_width is not None
        after = photos[-1].id
        db.commit()
