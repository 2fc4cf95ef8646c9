"""The files chosen in a page form's file field: stored, or each refused with its reason."""

from __future__ import annotations

from collections.abc import Callable

from flask import request

from portal.files.checks import FileRefused
from portal.files.models import MAX_PER_MESSAGE, StoredFile
from portal.files.services import clean_name
from portal.files.texts import refusal_text


def store_form_uploads(
    store: Callable[[str, bytes], StoredFile], field: str = "attachments"
) -> tuple[list[int], list[str]]:
    """(ids of the stored files, problems to show). With any problem the caller stores nothing:
    it rolls back and shows the form again with what was typed."""
    uploads = [f for f in request.files.getlist(field) if f and f.filename]
    if len(uploads) > MAX_PER_MESSAGE:
        return [], [refusal_text(FileRefused("too_many", limit=MAX_PER_MESSAGE))]
    ids: list[int] = []
    problems: list[str] = []
    for upload in uploads:
        name = upload.filename or ""
        try:
            ids.append(store(name, upload.read()).id)
        except FileRefused as exc:
            problems.append(refusal_text(exc, clean_name(name)))
    return ids, problems
