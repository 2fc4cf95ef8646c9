"""Photos get a preview: a small copy the portal draws again itself (upright, without the
file's metadata), shown inline on the family's pages; the upload stays a download. Anything
that cannot be drawn safely (damaged, or a few bytes claiming a billion pixels) simply has no
preview. A preview is as visible as its file, and looking at it is logged."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from flask import Flask
from PIL import Image
from sqlalchemy import delete, select, update

from portal import db
from portal.access.models import AuditEvent
from portal.files.models import FilePreview, StoredFile
from portal.files.previews import SIZE
from tests.api.client import is_problem
from tests.files import samples
from tests.files.test_attachments import upload, world  # noqa: F401 (the fixture)

GPS = 0x8825
ORIENTATION = 0x0112


def photo_with_gps(width: int = 800, height: int = 400) -> bytes:
    """A phone photo lying on its side (EXIF orientation 6: turn it a quarter to the right to
    see it upright), with the place it was taken."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0x010F] = "Telefoonmerk"
    exif.get_ifd(GPS).update({1: "N", 2: (52.0, 5.0, 0.0), 3: "E", 4: (4.0, 53.0, 0.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A few hundred bytes that say they are an enormous picture (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def send(api: Any, fid: int, cid: int, file_id: int, key: str) -> Any:
    sent = api.post(
        f"/families/{fid}/conversations/{cid}/messages",
        {"client_key": key, "body": "", "attachments": [file_id]},
    )
    assert sent.status_code == 201, sent.get_json()
    return sent.get_json()


def test_a_photo_gets_an_upright_preview_without_its_metadata(
    app: Flask,
    world: dict[str, Any],  # noqa: F811
) -> None:
    fid, cid, mama, papa = world["family"].id, world["cid"], world["mama"], world["papa"]
    original = photo_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS)  # the sample carries it
    uploaded = upload(mama, fid, cid, "strand.jpg", original)
    assert uploaded.status_code == 201, uploaded.get_json()
    file_id = uploaded.get_json()["id"]
    preview = uploaded.get_json()["preview"]
    # Lying on its side, 800 x 400: upright it is 400 wide and 800 high, made 320 x 640.
    assert (preview["width"], preview["height"]) == (SIZE // 2, SIZE)
    assert preview["url"] == f"/api/v1/families/{fid}/files/{file_id}/preview"
    # Not sent yet: the preview is as private as the upload.
    assert is_problem(papa.get(f"/families/{fid}/files/{file_id}/preview"), 404)

    message = send(mama, fid, cid, file_id, "preview-0001")
    assert message["attachments"][0]["preview"] == preview
    shown = papa.get(f"/families/{fid}/files/{file_id}/preview")
    assert shown.status_code == 200
    assert shown.headers["Content-Type"] == "image/jpeg"
    assert shown.headers["Content-Disposition"].startswith("inline;")
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in shown.headers["Content-Security-Policy"]
    assert shown.headers["Cache-Control"] == "private, no-store"
    drawn = Image.open(io.BytesIO(shown.get_data()))
    assert drawn.size == (SIZE // 2, SIZE)
    assert not drawn.getexif()  # no GPS, no camera: nothing of the file's metadata
    assert shown.get_data() != original
    # The page route answers the same way; the original is still a download.
    page = papa.client.get(f"/families/{fid}/files/{file_id}/preview")
    assert page.status_code == 200 and page.get_data() == shown.get_data()
    download = papa.get(f"/families/{fid}/files/{file_id}")
    assert download.get_data() == original
    assert download.headers["Content-Disposition"].startswith("attachment;")

    # Someone outside the conversation, or in another family: 404, and logged.
    assert is_problem(world["stief"].get(f"/families/{fid}/files/{file_id}/preview"), 404)
    assert is_problem(world["stranger"].get(f"/families/{fid}/files/{file_id}/preview"), 404)
    with app.app_context():
        looks = db.session.scalars(
            select(AuditEvent.outcome).where(
                AuditEvent.action == "file.preview", AuditEvent.object_id == str(file_id)
            )
        ).all()
        db.session.remove()
    # Refused: papa before it was sent, and stief (the stranger is refused at the family).
    assert looks.count("denied") == 2 and looks.count("allowed") == 2

    # The conversation page shows the photo, with words for those who cannot see it.
    html = papa.client.get(f"/families/{fid}/messages/{cid}").get_data(as_text=True)
    assert (
        f'<img class="photo" src="/families/{fid}/files/{file_id}/preview" '
        f'width="{SIZE // 2}" height="{SIZE}" alt="Foto: strand.jpg" loading="lazy">'
    ) in html


def test_transparent_pictures_stay_transparent_and_animations_show_their_first_frame(
    world: dict[str, Any],  # noqa: F811
) -> None:
    fid, cid, mama = world["family"].id, world["cid"], world["mama"]
    clear = Image.new("RGBA", (1000, 1000), (0, 0, 0, 0))
    out = io.BytesIO()
    clear.save(out, "PNG")
    made = upload(mama, fid, cid, "logo.png", out.getvalue()).get_json()
    shown = mama.get(made["preview"]["url"].removeprefix("/api/v1"))
    assert shown.headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(shown.get_data())).getpixel((5, 5)) == (0, 0, 0, 0)

    frames = [Image.new("RGB", (60, 40), colour) for colour in ((0, 0, 255), (255, 255, 0))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    made = upload(mama, fid, cid, "zwaai.gif", out.getvalue()).get_json()
    assert (made["preview"]["width"], made["preview"]["height"]) == (60, 40)
    first = Image.open(io.BytesIO(mama.get(made["preview"]["url"].removeprefix("/api/v1")).data))
    red, green, blue = first.convert("RGB").getpixel((30, 20))
    assert blue > 200 and red < 60 and green < 60


def test_no_preview_for_documents_damaged_photos_or_bombs(
    world: dict[str, Any],  # noqa: F811
) -> None:
    fid, cid, mama = world["family"].id, world["cid"], world["mama"]
    damaged = samples.png(40, 40)[:60]  # cut off after the header
    for name, data in [
        ("rooster.pdf", samples.pdf()),
        ("kapot.png", damaged),
        ("bom.png", png_claiming(100_000, 100_000)),
    ]:
        made = upload(mama, fid, cid, name, data)
        assert made.status_code == 201, (name, made.get_json())
        assert made.get_json()["preview"] is None, name
        file_id = made.get_json()["id"]
        missing = mama.get(f"/families/{fid}/files/{file_id}/preview")
        assert is_problem(missing, 404), name
        assert "downloaden" in missing.get_json()["detail"]
        assert mama.client.get(f"/families/{fid}/files/{file_id}/preview").status_code == 404
        assert mama.get(f"/families/{fid}/files/{file_id}").get_data() == data  # still there


def test_photos_from_before_previews_get_them_from_the_command(
    app: Flask,
    world: dict[str, Any],  # noqa: F811
) -> None:
    fid, cid, mama = world["family"].id, world["cid"], world["mama"]
    made = [upload(mama, fid, cid, f"oud-{n}.png", samples.png(30, 20)) for n in (1, 2)]
    ids = [response.get_json()["id"] for response in made]
    broken = upload(mama, fid, cid, "kapot.png", samples.png(30, 20)[:60]).get_json()["id"]
    with app.app_context():
        # As they were stored before this version: no preview, no size.
        db.session.execute(delete(FilePreview))
        db.session.execute(update(StoredFile).values(preview_width=None, preview_height=None))
        db.session.commit()
        db.session.remove()
    assert is_problem(mama.get(f"/families/{fid}/files/{ids[0]}/preview"), 404)
    runner = app.test_cli_runner()
    with app.app_context():
        result = runner.invoke(args=["portal", "draw-previews"])
    assert result.exit_code == 0, result.output
    assert "Previews drawn: 2 of 3 photo(s) without one." in result.output
    for file_id in ids:
        shown = mama.get(f"/families/{fid}/files/{file_id}/preview")
        assert shown.status_code == 200
        assert Image.open(io.BytesIO(shown.get_data())).size == (30, 20)
    assert is_problem(mama.get(f"/families/{fid}/files/{broken}/preview"), 404)
