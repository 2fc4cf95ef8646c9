"""The dossier over the API: the same services and policy as the pages."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _

from portal.access import authorize, current_actor, load_family, recorded_if_refused
from portal.access.guard import checked_in_family, load_in_family
from portal.access.policy import decide
from portal.api import bp
from portal.api.common import (
    MAX_ID,
    api_login_required,
    fail,
    field_error,
    json_body,
    ok,
    page,
    page_args,
)
from portal.api.serialize import file_json, iso
from portal.core.sanitize import plain_text
from portal.dossier import services as dossier
from portal.dossier.models import DossierEntry
from portal.dossier.views import announce, dossier_error_text, record_taken_out

FIELDS = {"title", "body", "visibility", "attachments", "version"}


def entry_json(entry: DossierEntry, files: list[Any], revisions: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": entry.id,
        "family_id": entry.family_id,
        "title": entry.title,
        "body": entry.body,
        "visibility": entry.visibility,
        "author_id": entry.author_id,
        "author_name": entry.author_name,
        "author_organisation": entry.author_organisation,
        "author_kind": entry.author_kind,
        "created_at": iso(entry.created_at),
        "updated_at": iso(entry.updated_at),
        "deleted": entry.deleted_at is not None,
        "version": entry.version,
        "attachments": [file_json(f) for f in files],
    }
    if revisions is not None:
        body["revisions"] = [
            {
                "version": r.version,
                "title": r.title,
                "body": r.body,
                "visibility": r.visibility,
                "written_at": iso(r.written_at),
                "replaced_at": iso(r.replaced_at),
                "change": r.change,
            }
            for r in revisions
        ]
    return body


def _payload(required: bool) -> dict[str, Any]:
    payload = json_body()
    unknown = set(payload) - FIELDS
    if unknown:
        raise field_error(sorted(unknown)[0], _("Dit veld bestaat niet."))
    for name in ("title", "body", "visibility"):
        if name in payload and not isinstance(payload[name], str):
            raise field_error(name, _("Dit moet tekst zijn."))
        if required and name in ("title", "body") and name not in payload:
            raise field_error(name, dossier_error_text(f"{name}_required"))
    ids = payload.get("attachments", [])
    if not isinstance(ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and 0 < i < MAX_ID for i in ids
    ):
        raise field_error("attachments", _("Stuur een lijst met nummers."))
    return payload


@bp.get("/families/<int:fid>/dossier")
@api_login_required
def list_dossier(fid: int) -> Any:
    """Entries I may read, newest first; ?q= searches title and text."""
    family = load_family(fid, "dossier.view")
    limit, cursor = page_args()
    query = plain_text(request.args.get("q", ""), 100)
    rows = dossier.visible_entries(
        family, current_actor(), limit=limit + 1, before_id=cursor, query=query
    )
    items, next_cursor = page(rows, limit, key=lambda e: e.id)
    files = dossier.attachments_of(e.id for e in items)
    return ok(
        {
            "items": [entry_json(e, files.get(e.id, [])) for e in items],
            "next_cursor": next_cursor,
        }
    )


@bp.post("/families/<int:fid>/dossier")
@api_login_required
def create_dossier_entry(fid: int) -> Any:
    family = load_family(fid, "dossier.edit", record=False)
    with recorded_if_refused("family.view", family):
        payload = _payload(required=True)
        try:
            entry = dossier.create(
                family,
                current_actor(),
                title=payload["title"],
                body=payload["body"],
                visibility=payload.get("visibility")
                or dossier.default_visibility(dossier.choices_for(current_actor(), family)),
                attachment_ids=payload.get("attachments", []),
            )
        except dossier.DossierError as exc:
            raise field_error(exc.field, dossier_error_text(exc.code)) from None
    authorize("dossier.edit", entry)
    announce(entry)
    return ok(entry_json(entry, dossier.attachments_of([entry.id]).get(entry.id, [])), 201)


@bp.get("/families/<int:fid>/dossier/<int:eid>")
@api_login_required
def get_dossier_entry(fid: int, eid: int) -> Any:
    family = load_family(fid, "dossier.view", record=False)
    found, files = dossier.entry_with_attachments(family, eid)
    entry = checked_in_family(found, DossierEntry, family, eid, "dossier.view")
    return ok(entry_json(entry, files, dossier.revisions(entry, current_actor())))


@bp.patch("/families/<int:fid>/dossier/<int:eid>")
@api_login_required
def update_dossier_entry(fid: int, eid: int) -> Any:
    """The author changes their entry (with its version); the earlier text is kept."""
    family = load_family(fid, "dossier.view", record=False)
    entry = load_in_family(DossierEntry, family, eid, "dossier.change", record=False)
    with recorded_if_refused("dossier.view", entry):
        payload = _payload(required=False)
        version = payload.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise field_error("version", _("Stuur de version mee die je hebt."))
        try:
            dossier.update(
                entry,
                current_actor(),
                family,
                version=version,
                title=payload.get("title", entry.title),
                body=payload.get("body", entry.body),
                visibility=payload.get("visibility", entry.visibility),
                attachment_ids=payload.get("attachments", []),
            )
        except dossier.Conflict as exc:
            current = exc.current
            raise fail(
                409,
                _("Iemand anders heeft dit stuk net veranderd."),
                current=entry_json(current, []),
            ) from None
        except dossier.DossierError as exc:
            raise field_error(exc.field, dossier_error_text(exc.code)) from None
    authorize("dossier.change", entry)
    announce(entry)
    files = dossier.attachments_of([entry.id]).get(entry.id, [])
    return ok(entry_json(entry, files))


@bp.delete("/families/<int:fid>/dossier/<int:eid>")
@api_login_required
def delete_dossier_entry(fid: int, eid: int) -> Any:
    """The author takes the entry out (?version=); nobody sees it any more, the text is kept."""
    family = load_family(fid, "dossier.view", record=False)
    entry = load_in_family(DossierEntry, family, eid, "dossier.change", record=False)
    with recorded_if_refused("dossier.view", entry):
        raw = request.args.get("version", "")
        if not raw.isdecimal() or int(raw) >= MAX_ID:
            raise fail(400, _("Stuur ?version= mee."))
        decision = decide(current_actor(), "dossier.change", entry)
        try:
            dossier.take_out(entry, int(raw))
        except dossier.Conflict:
            raise fail(
                409, _("Iemand anders heeft dit stuk net veranderd."), current=entry_json(entry, [])
            ) from None
    record_taken_out(decision, entry)
    announce(entry)
    return ok(entry_json(entry, []))
