"""What a file is, decided by its content (magic bytes, the inside of a zip), never by its name.

Only kinds a family needs are taken: PDF, common photos and Office/OpenDocument files. Anything
that a browser could run (HTML, SVG, XML, scripts) is refused, also when it is renamed, and a
name whose extension does not match the content is refused too (a "photo.jpg" that is a PDF).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass


class FileRefused(Exception):
    def __init__(self, code: str, **details: object) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


@dataclass(frozen=True)
class Kind:
    key: str
    content_type: str
    extensions: tuple[str, ...]


PDF = Kind("pdf", "application/pdf", ("pdf",))
PNG = Kind("png", "image/png", ("png",))
JPEG = Kind("jpeg", "image/jpeg", ("jpg", "jpeg"))
GIF = Kind("gif", "image/gif", ("gif",))
WEBP = Kind("webp", "image/webp", ("webp",))
DOCX = Kind(
    "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ("docx",)
)
XLSX = Kind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",))
PPTX = Kind(
    "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", ("pptx",)
)
ODT = Kind("odt", "application/vnd.oasis.opendocument.text", ("odt",))
ODS = Kind("ods", "application/vnd.oasis.opendocument.spreadsheet", ("ods",))
# Old binary Office files share one container format; the name tells which program opens it.
OLE = Kind("ole", "application/octet-stream", ("doc", "xls", "ppt"))

ALLOWED_EXTENSIONS = tuple(
    ext
    for kind in (PDF, PNG, JPEG, GIF, WEBP, DOCX, XLSX, PPTX, ODT, ODS, OLE)
    for ext in kind.extensions
)
_OOXML = {"word/": DOCX, "xl/": XLSX, "ppt/": PPTX}
_ODF = {m.content_type.encode(): m for m in (ODT, ODS)}
_MAX_ZIP_ENTRIES = 5000


def _zip_kind(data: bytes) -> Kind | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError, RuntimeError):
        return None
    if len(names) > _MAX_ZIP_ENTRIES:
        return None
    if "mimetype" in names:
        try:
            mimetype = archive.read("mimetype")[:100].strip()
        except (zipfile.BadZipFile, ValueError, OSError, RuntimeError, KeyError):
            return None
        return _ODF.get(mimetype)
    if "[Content_Types].xml" in names:
        for prefix, kind in _OOXML.items():
            if any(name.startswith(prefix) for name in names):
                return kind
    return None


def sniff(data: bytes) -> Kind | None:
    """The kind of file these bytes are, or None for anything we do not take."""
    head = data[:16]
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return OLE
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    return None


def extension_of(name: str) -> str:
    return name.rsplit(".", 1)[1].lower() if "." in name else ""


def check(name: str, data: bytes, max_bytes: int) -> Kind:
    """The file's kind if it may be stored; otherwise FileRefused with a reason code."""
    if not data:
        raise FileRefused("empty")
    if len(data) > max_bytes:
        raise FileRefused("too_large", limit_mb=max_bytes // (1024 * 1024))
    kind = sniff(data)
    if kind is None:
        raise FileRefused("not_allowed")
    if extension_of(name) not in kind.extensions:
        raise FileRefused("name_mismatch", expected=kind.extensions[0])
    return kind
