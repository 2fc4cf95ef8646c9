"""A file is what its content says: renamed HTML or SVG, fake extensions and oversized files
are refused with a reason."""

from __future__ import annotations

import pytest

from portal.files.checks import FileRefused, check
from tests.files import samples

LIMIT = 1024 * 1024


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("rooster.pdf", samples.pdf(), "application/pdf"),
        ("foto.PNG", samples.png(), "image/png"),
        ("foto.jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20, "image/jpeg"),
        (
            "brief.docx",
            samples.docx(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("brief.odt", samples.odt(), "application/vnd.oasis.opendocument.text"),
    ],
)
def test_known_kinds_are_taken(name: str, data: bytes, content_type: str) -> None:
    assert check(name, data, LIMIT).content_type == content_type


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("brief.pdf", samples.HTML, "not_allowed"),  # renamed HTML
        ("tekening.png", samples.SVG, "not_allowed"),  # renamed SVG
        ("tekening.svg", samples.SVG, "not_allowed"),
        ("pagina.html", samples.HTML, "not_allowed"),
        ("archief.docx", samples.plain_zip(), "not_allowed"),  # a zip, but no Office document
        ("foto.jpg", samples.pdf(), "name_mismatch"),  # a PDF with a photo's name
        ("rooster.pdf.exe", samples.pdf(), "name_mismatch"),
        ("zonder-extensie", samples.png(), "name_mismatch"),
        ("leeg.pdf", b"", "empty"),
        ("groot.pdf", samples.pdf() + b"0" * LIMIT, "too_large"),
    ],
)
def test_fakes_and_oversized_files_are_refused(name: str, data: bytes, code: str) -> None:
    with pytest.raises(FileRefused) as refused:
        check(name, data, LIMIT)
    assert refused.value.code == code
