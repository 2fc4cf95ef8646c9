"""The dossier: entries written by the family or by guests with the dossier part, each with a
visibility its author chooses, a kept history of every change, attachments and search.
Services flush, never commit; the policy decides who sees which entry."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select

from portal import db
from portal.access.policy import (
    PARENTS,
    YOUNG_16_17,
    YOUNG_ADULT,
    Actor,
    decide,
    dossier_text_visible,
)
from portal.auth.models import User
from portal.core import clock
from portal.core.sanitize import plain_text
from portal.core.textlength import count
from portal.dossier.models import VISIBILITIES, DossierEntry, DossierRevision
from portal.family.models import Family
from portal.files import services as files
from portal.files.models import StoredFile

MAX_TITLE = 200
MAX_BODY = 20_000


class DossierError(Exception):
    def __init__(self, code: str, field: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.field = field


class Conflict(Exception):
    def __init__(self, current: DossierEntry) -> None:
        super().__init__("conflict")
        self.current = current


def visibility_choices(role: str, is_member: bool) -> tuple[str, ...]:
    """What this author may choose. Keeping an entry from the parents is for young people of 16+
    (their own file) and for a parent, who keeps it from the other parents (safety in a
    separation: the author always reads their own entry); guests cannot hide from the family
    what they write about it."""
    if not is_member:
        return ("all",)
    if role in (YOUNG_16_17, YOUNG_ADULT) or role in PARENTS:
        return VISIBILITIES
    return tuple(v for v in VISIBILITIES if v != "no_parents")


def writes_as_parent(actor: Actor, family: Family) -> bool:
    """Whether this author writes as one of the parents (then "everyone but the parents" keeps
    an entry from the other parents)."""
    return decide(actor, "dossier.edit", family).role in PARENTS


def default_visibility(choices: tuple[str, ...]) -> str:
    """What a new entry gets when its author chooses nothing: only the family, when the author
    may choose that. Sharing with guests is a choice the family makes per entry (privacy by
    default); a guest's own entry is always for everyone with dossier access."""
    return "family" if "family" in choices else "all"


def choices_for(actor: Actor, family: Family, entry: DossierEntry | None = None) -> tuple[str, ...]:
    """The visibilities this person may choose when writing here; an entry being changed keeps
    the one it has as a choice."""
    role = decide(actor, "dossier.edit", family).role
    choices = visibility_choices(role, actor.membership(family.id) is not None)
    if entry is not None and entry.visibility not in choices:
        choices = (*choices, entry.visibility)
    return choices


def _clean(title: str, body: str, visibility: str, allowed: Iterable[str]) -> tuple[str, str]:
    title = plain_text(title or "", None)
    body = (body or "").replace("\x00", "").strip()
    if not title:
        raise DossierError("title_required", "title")
    if count(title) > MAX_TITLE:
        raise DossierError("title_too_long", "title")
    if not body:
        raise DossierError("body_required", "body")
    if count(body) > MAX_BODY:
        raise DossierError("body_too_long", "body")
    if visibility not in allowed:
        raise DossierError("bad_visibility", "visibility")
    return title, body


def pending_uploads(family: Family, by: User, ids: Iterable[int]) -> list[StoredFile]:
    """Uploads `by` made for the dossier that are not attached yet (all, or nothing)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    if len(wanted) > files.MAX_PER_MESSAGE:
        raise DossierError("too_many", "attachments")
    found = {
        f.id: f
        for f in db.session.scalars(
            select(StoredFile).where(
                StoredFile.id.in_(wanted),
                StoredFile.family_id == family.id,
                StoredFile.uploaded_by_id == by.id,
                StoredFile.conversation_id.is_(None),
                StoredFile.dossier_entry_id.is_(None),
            )
        )
    }
    if set(found) != set(wanted):
        raise DossierError("unknown_file", "attachments")
    return [found[i] for i in wanted]


def create(
    family: Family,
    actor: Actor,
    *,
    title: str,
    body: str,
    visibility: str = "all",
    attachment_ids: Iterable[int] = (),
) -> DossierEntry:
    by = actor.user
    assert by is not None  # the views only come here for a signed-in author
    title, body = _clean(title, body, visibility, choices_for(actor, family))
    attachments = pending_uploads(family, by, attachment_ids)
    is_member = actor.membership(family.id) is not None
    entry = DossierEntry(
        family_id=family.id,
        author_id=by.id,
        author_name=by.display_name,
        author_organisation=by.organisation,
        author_kind="member" if is_member else "guest",
        title=title,
        body=body,
        visibility=visibility,
    )
    db.session.add(entry)
    db.session.flush()
    for stored in attachments:
        stored.dossier_entry_id = entry.id
    db.session.flush()
    return entry


def _keep(entry: DossierEntry, change: str) -> None:
    db.session.add(
        DossierRevision(
            entry_id=entry.id,
            version=entry.version,
            title=entry.title,
            body=entry.body,
            visibility=entry.visibility,
            written_at=entry.updated_at or entry.created_at,
            change=change,
        )
    )


def update(
    entry: DossierEntry,
    actor: Actor,
    family: Family,
    *,
    version: int | None,
    title: str,
    body: str,
    visibility: str,
    attachment_ids: Iterable[int] = (),
) -> DossierEntry:
    """The author changes their entry; the earlier text is kept. A stale version is refused."""
    if version != entry.version:
        raise Conflict(entry)
    by = actor.user
    assert by is not None
    title, body = _clean(title, body, visibility, choices_for(actor, family, entry))
    attachments = pending_uploads(family, by, attachment_ids)
    if (title, body, visibility) == (entry.title, entry.body, entry.visibility) and not attachments:
        return entry
    _keep(entry, "edited")
    entry.title, entry.body, entry.visibility = title, body, visibility
    entry.updated_at = clock.now()
    for stored in attachments:
        stored.dossier_entry_id = entry.id
    db.session.flush()
    return entry


def take_out(entry: DossierEntry, version: int | None) -> DossierEntry:
    if version != entry.version:
        raise Conflict(entry)
    _keep(entry, "deleted")
    entry.deleted_at = clock.now()
    db.session.flush()
    return entry


def revisions(entry: DossierEntry, actor: Actor) -> list[DossierRevision]:
    """The entry's earlier versions this actor may read, newest first: each with the
    visibility it had when it was written, not the entry's visibility now."""
    if entry.version == 1:
        # Never changed, so nothing kept: a revision is only written with a change of its
        # entry, which counts the entry's version up. Most entries are read unchanged, and on
        # PostgreSQL the round trip is the largest cost of the API read (docs/performance.md).
        return []
    role = decide(actor, "dossier.view", entry).role
    return [
        revision
        for revision in db.session.scalars(
            select(DossierRevision)
            .where(DossierRevision.entry_id == entry.id)
            .order_by(DossierRevision.id.desc())
        )
        if dossier_text_visible(actor, role, entry.author_id, revision.visibility)
    ]


@dataclass(frozen=True)
class Change:
    """One step in an entry's history, as a readable line-by-line difference."""

    at: datetime
    version: int
    title_before: str
    title_after: str
    lines: list[tuple[str, str]]  # ("+"/"-"/" ", text)


def history(entry: DossierEntry, actor: Actor) -> list[Change]:
    """Newest first: what each save changed, compared with the text before it. Only versions
    the actor may read take part: a version kept from them is not shown, nor diffed against."""
    steps = list(reversed(revisions(entry, actor)))  # oldest first
    texts = [(r.title, r.body, r.written_at, r.version) for r in steps]
    texts.append((entry.title, entry.body, entry.updated_at or entry.created_at, entry.version))
    changes = []
    for (t0, b0, _w0, _v0), (t1, b1, w1, v1) in zip(texts, texts[1:], strict=False):
        lines = [
            (line[0], line[2:])
            for line in difflib.ndiff(b0.splitlines(), b1.splitlines())
            if line[:1] in "+- "
        ]
        changes.append(Change(w1, v1, t0, t1, lines))
    return list(reversed(changes))


def visible_entries(
    family: Family,
    actor: Actor,
    *,
    limit: int,
    before_id: int | None = None,
    query: str = "",
) -> list[DossierEntry]:
    """Entries this actor may read, newest first, `limit` at most. Visibility is filtered in
    the query where it can be (so pages stay full) and confirmed by the policy per entry."""
    statement = select(DossierEntry).where(
        DossierEntry.family_id == family.id, DossierEntry.deleted_at.is_(None)
    )
    me = actor.user.id if actor.user else -1
    hidden = _hidden_visibilities(actor, family)
    if hidden:
        statement = statement.where(
            DossierEntry.visibility.not_in(hidden) | (DossierEntry.author_id == me)
        )
    if before_id is not None:
        statement = statement.where(DossierEntry.id < before_id)
    if query:
        pattern = (
            "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        statement = statement.where(
            func.lower(DossierEntry.title).like(pattern, escape="\\")
            | func.lower(DossierEntry.body).like(pattern, escape="\\")
        )
    rows = db.session.scalars(statement.order_by(DossierEntry.id.desc()).limit(limit))
    return [e for e in rows if decide(actor, "dossier.view", e).allowed]


def _hidden_visibilities(actor: Actor, family: Family) -> set[str]:
    """The visibilities of other people's entries this actor may not read (by their role)."""
    probe = decide(actor, "dossier.view", family)
    hidden = {"me"}
    role = probe.role
    from portal.access.policy import FORMER_GUEST, GUEST, PARENTS

    if role in (GUEST, FORMER_GUEST):
        hidden |= {"family", "parents"}
    if role in PARENTS:
        hidden.add("no_parents")
    else:
        hidden.add("parents")
    return hidden


def attachments_of(entry_ids: Iterable[int]) -> dict[int, list[StoredFile]]:
    return files.by_dossier_entry(entry_ids)


# One entry and its files in one statement: the API read of an entry is the most frequent
# request of the API, and on PostgreSQL each round trip is a large part of its cost.
_ENTRY_WITH_FILES = (
    select(DossierEntry, StoredFile)
    .outerjoin(StoredFile, StoredFile.dossier_entry_id == DossierEntry.id)
    .where(
        DossierEntry.id == bindparam("entry_id"), DossierEntry.family_id == bindparam("family_id")
    )
    .order_by(StoredFile.id)
)


def entry_with_attachments(
    family: Family, entry_id: int
) -> tuple[DossierEntry | None, list[StoredFile]]:
    """The family's entry `entry_id` (None when it has none by that id) and its files."""
    rows = db.session.execute(
        _ENTRY_WITH_FILES, {"entry_id": entry_id, "family_id": family.id}
    ).all()
    if not rows:
        return None, []
    return rows[0][0], [stored for _, stored in rows if stored is not None]


def store_upload(family: Family, by: User, name: str, data: bytes) -> StoredFile:
    """An upload for the dossier (not for a conversation): private until attached."""
    return files.store_for(family.id, by, name, data, conversation_id=None)
