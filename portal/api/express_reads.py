"""Single-object API reads answered in the express lane (portal/core/express.py): the same
policy decisions, audit rows and JSON as the views in this package, read through Core.

Each handler follows its view step by step and says which; where the view would refuse or
answer differently (another family's object, a refusal, something removed) the handler
returns None and the view answers."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, bindparam, select

from portal.access.policy import decide, dossier_text_visible
from portal.api.dossier import entry_json
from portal.core.express import Answer, Lane, Visit, column_names, transient
from portal.family.models import DossierEntry, DossierRevision, Family
from portal.files.models import StoredFile

_entries = cast(Table, DossierEntry.__table__)
_revisions = cast(Table, DossierRevision.__table__)
_files = cast(Table, StoredFile.__table__)

_FILE = "f_"
# guard._in_family_statement(DossierEntry): this family's entry (entries have no removed_at),
# with files.by_dossier_entry's attachments in upload order: a row per file, or one row with
# no file.
_ENTRY = (
    select(_entries, *[column.label(_FILE + column.name) for column in _files.c])
    .outerjoin(_files, _files.c.dossier_entry_id == _entries.c.id)
    .where(_entries.c.id == bindparam("entry_id"), _entries.c.family_id == bindparam("family_id"))
    .order_by(_files.c.id)
)
_ENTRY_COLUMNS = column_names(DossierEntry)
_FILE_COLUMNS = column_names(StoredFile)
# dossier.revisions: earlier versions, newest first.
_REVISIONS = (
    select(_revisions)
    .where(_revisions.c.entry_id == bindparam("entry_id"))
    .order_by(_revisions.c.id.desc())
)
_REVISION_COLUMNS = column_names(DossierRevision)


def register(lane: Lane) -> None:
    lane.route(r"/api/v1/families/(\d+)/dossier/(\d+)")(dossier_entry)


def dossier_entry(visit: Visit, family_id: int, entry_id: int) -> Answer | None:
    """api.dossier.get_dossier_entry."""
    actor = visit.actor
    # load_family(fid, "dossier.view", record=False): decided, logged only if refused.
    if not decide(actor, "dossier.view", Family(id=family_id)).allowed:
        return None
    # load_in_family(DossierEntry, family, eid, "dossier.view"): decided and logged.
    rows = visit.rows(_ENTRY, {"entry_id": entry_id, "family_id": family_id})
    if not rows:
        return None
    first = rows[0]
    entry = transient(DossierEntry, {name: first[name] for name in _ENTRY_COLUMNS})
    decision = decide(actor, "dossier.view", entry)
    if not decision.allowed:
        return None
    files = [
        transient(StoredFile, {name: row[_FILE + name] for name in _FILE_COLUMNS})
        for row in rows
        if row[_FILE + "id"] is not None
    ]
    # dossier.revisions: an entry still at its first version was never changed, so it has no
    # earlier versions to read (dossier.update keeps one per change and counts the version up).
    revisions = (
        [
            revision
            for revision in (
                transient(DossierRevision, {name: row[name] for name in _REVISION_COLUMNS})
                for row in visit.rows(_REVISIONS, {"entry_id": entry_id})
            )
            if dossier_text_visible(actor, decision.role, entry.author_id, revision.visibility)
        ]
        if entry.version > 1
        else []
    )
    visit.record("dossier.view", decision, family_id, entry)
    return visit.json(entry_json(entry, files, revisions))
