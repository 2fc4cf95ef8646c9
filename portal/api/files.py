"""Uploading a file for a conversation and downloading a file (or a photo's preview) you may
see."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import authorize, load_family, recorded_if_refused
from portal.api import bp
from portal.api.common import MAX_ID, api_login_required, fail, field_error, ok
from portal.api.serialize import file_json
from portal.dossier import services as dossier
from portal.files import services as files
from portal.files.access import load_file, load_preview
from portal.files.checks import FileRefused
from portal.files.serve import download, show_preview
from portal.files.texts import refusal_text
from portal.messaging.access import load_conversation


@bp.post("/families/<int:fid>/files")
@api_login_required
def upload_file(fid: int) -> Any:
    """multipart/form-data: `file`, and the `conversation_id` it is meant for (attach it by
    sending a message with `attachments: [id]`), or `purpose=dossier` (attach it to an entry)."""
    if request.form.get("purpose") == "dossier":
        return _upload_for_dossier(fid)
    family = load_family(fid, "conversation.list", record=False)
    raw = request.form.get("conversation_id", "")
    if not raw.isdecimal() or not 0 < int(raw) < MAX_ID:
        authorize("family.view", family)
        raise field_error("conversation_id", _("Zeg voor welk gesprek het bestand is."))
    conversation = load_conversation(family, int(raw), "message.send", record=False)
    with recorded_if_refused("message.view", conversation):
        upload = request.files.get("file")
        if upload is None:
            raise field_error("file", _("Kies een bestand."))
        try:
            stored = files.store(conversation, current_user, upload.filename or "", upload.read())
        except FileRefused as exc:
            raise field_error("file", refusal_text(exc)) from None
    authorize("message.send", conversation)
    return ok(file_json(stored), 201)


def _upload_for_dossier(fid: int) -> Any:
    family = load_family(fid, "dossier.edit", record=False)
    with recorded_if_refused("family.view", family):
        upload = request.files.get("file")
        if upload is None:
            raise field_error("file", _("Kies een bestand."))
        try:
            stored = dossier.store_upload(
                family, current_user, upload.filename or "", upload.read()
            )
        except FileRefused as exc:
            raise field_error("file", refusal_text(exc)) from None
    authorize("dossier.edit", family)
    return ok(file_json(stored), 201)


@bp.get("/families/<int:fid>/files/<int:file_id>")
@api_login_required
def get_file(fid: int, file_id: int) -> Any:
    family = load_family(fid, "family.view", record=False)
    return download(load_file(family, file_id, "file.download"))


@bp.get("/families/<int:fid>/files/<int:file_id>/preview")
@api_login_required
def get_file_preview(fid: int, file_id: int) -> Any:
    family = load_family(fid, "family.view", record=False)
    found = load_preview(family, file_id)
    if found is None:
        raise fail(404, _("Van dit bestand is geen voorbeeld. Je kunt het wel downloaden."))
    return show_preview(found)
