"""Everything the family holds, as one zip archive (JSON + the files), for data portability.

The archive holds what the person asking may see: dossier entries kept from them and
conversations they are not in stay out. The family's access log is included whole."""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from typing import IO, Any

from sqlalchemy import select

from portal import db
from portal.access import audit
from portal.access.models import AuditEvent, Grant, GrantApproval, GrantPart
from portal.access.policy import Actor, decide, dossier_text_visible
from portal.core import clock
from portal.dossier.models import DossierEntry, DossierRevision
from portal.family.models import (
    Agreement,
    Evaluation,
    Family,
    Goal,
    GoalScore,
    Member,
    NetworkPetal,
    Plan,
    SafetyPlan,
)
from portal.family.plan_history_models import PlanChange, PlanSigner, PlanSignoff, PlanVersion
from portal.files.models import FileContent, StoredFile
from portal.messaging.models import Conversation, Message, Participant

FORMAT = "gezinsportaal-export/1"
_BATCH = 500


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return None
    return value


def row(obj: Any) -> dict[str, Any]:
    """Every column of a row, by its column name (the archive mirrors the tables)."""
    return {c.key: _value(getattr(obj, c.key)) for c in obj.__mapper__.column_attrs}


def _rows(statement: Any) -> list[dict[str, Any]]:
    return [row(o) for o in db.session.scalars(statement.execution_options(yield_per=_BATCH))]


def _file_name(stored: StoredFile) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "._- " else "_" for ch in stored.name)
    return f"files/{stored.id}-{safe}"


def build(family: Family, actor: Actor) -> IO[bytes]:
    """The archive in a temporary file (attachments can be large), rewound for sending."""
    fid = family.id
    roles: dict[int, str] = {}  # entry id -> the actor's role, for the entries they may read
    entries = []
    for e in db.session.scalars(
        select(DossierEntry).where(DossierEntry.family_id == fid).order_by(DossierEntry.id)
    ):
        decision = decide(actor, "dossier.view", e)
        if decision.allowed:
            entries.append(e)
            roles[e.id] = decision.role
    entry_ids = [e.id for e in entries]
    authors = {e.id: e.author_id for e in entries}
    me = actor.user.id if actor.user else -1
    my_conversations = list(
        db.session.scalars(
            select(Conversation)
            .join(Participant, Participant.conversation_id == Conversation.id)
            .where(
                Conversation.family_id == fid,
                Participant.user_id == me,
                Participant.removed_at.is_(None),
            )
            .order_by(Conversation.id)
        )
    )
    conversation_ids = [c.id for c in my_conversations]
    files = list(
        db.session.scalars(
            select(StoredFile)
            .where(
                StoredFile.family_id == fid,
                (StoredFile.dossier_entry_id.in_(entry_ids))
                | (
                    StoredFile.conversation_id.in_(conversation_ids)
                    & StoredFile.message_id.is_not(None)
                ),
            )
            .order_by(StoredFile.id)
        )
    )
    grants = select(Grant).where(Grant.family_id == fid).order_by(Grant.id)
    grant_ids = select(Grant.id).where(Grant.family_id == fid)
    goal_ids = select(Goal.id).where(Goal.family_id == fid)
    audit.include_pending()  # the log in the archive shows this export too
    document: dict[str, Any] = {
        "format": FORMAT,
        "exported_at": clock.now().isoformat(),
        "exported_by": actor.name,
        "family": row(family),
        "members": _rows(select(Member).where(Member.family_id == fid).order_by(Member.id)),
        "plan": {
            "questions": _rows(select(Plan).where(Plan.family_id == fid)),
            "goals": _rows(select(Goal).where(Goal.family_id == fid).order_by(Goal.id)),
            "goal_scores": _rows(
                select(GoalScore).where(GoalScore.goal_id.in_(goal_ids)).order_by(GoalScore.id)
            ),
            "agreements": _rows(
                select(Agreement).where(Agreement.family_id == fid).order_by(Agreement.id)
            ),
            "network": _rows(
                select(NetworkPetal).where(NetworkPetal.family_id == fid).order_by(NetworkPetal.id)
            ),
            "safety": _rows(select(SafetyPlan).where(SafetyPlan.family_id == fid)),
            "evaluations": _rows(
                select(Evaluation).where(Evaluation.family_id == fid).order_by(Evaluation.id)
            ),
            "changes": _rows(
                select(PlanChange).where(PlanChange.family_id == fid).order_by(PlanChange.id)
            ),
            "versions": _rows(
                select(PlanVersion).where(PlanVersion.family_id == fid).order_by(PlanVersion.id)
            ),
            "signoffs": _rows(
                select(PlanSignoff).where(
                    PlanSignoff.version_id.in_(
                        select(PlanVersion.id).where(PlanVersion.family_id == fid)
                    )
                )
            ),
            # Who had to sign each version, with "niet akkoord" and "doet niet mee" reasons.
            "signers": _rows(
                select(PlanSigner)
                .where(
                    PlanSigner.version_id.in_(
                        select(PlanVersion.id).where(PlanVersion.family_id == fid)
                    )
                )
                .order_by(PlanSigner.id)
            ),
        },
        "dossier": {
            "entries": [row(e) for e in entries],
            # Each earlier version with the visibility it was written with (dossier.revisions).
            "revisions": [
                row(r)
                for r in db.session.scalars(
                    select(DossierRevision)
                    .where(DossierRevision.entry_id.in_(entry_ids))
                    .order_by(DossierRevision.id)
                )
                if dossier_text_visible(actor, roles[r.entry_id], authors[r.entry_id], r.visibility)
            ],
        },
        "conversations": [
            {
                **row(c),
                "participants": _rows(
                    select(Participant).where(Participant.conversation_id == c.id)
                ),
                "messages": _rows(
                    select(Message).where(Message.conversation_id == c.id).order_by(Message.seq)
                ),
            }
            for c in my_conversations
        ],
        "files": [{**row(f), "path": _file_name(f)} for f in files],
        "guests": {
            "grants": _rows(grants),
            "parts": _rows(select(GrantPart).where(GrantPart.grant_id.in_(grant_ids))),
            "approvals": _rows(select(GrantApproval).where(GrantApproval.grant_id.in_(grant_ids))),
        },
        "audit_log": _rows(
            select(AuditEvent).where(AuditEvent.family_id == fid).order_by(AuditEvent.id)
        ),
    }
    archive = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as out:
        out.writestr("gezin.json", json.dumps(document, ensure_ascii=False, indent=2))
        out.writestr("LEESMIJ.txt", _readme())
        for stored, data in _contents(files):
            out.writestr(_file_name(stored), data)
    archive.seek(0)
    return archive


def _contents(files: Iterable[StoredFile]) -> Iterable[tuple[StoredFile, bytes]]:
    for stored in files:
        content = db.session.get(FileContent, stored.id)
        if content is None:
            continue
        yield stored, content.data
        db.session.expunge(content)  # one file's bytes in memory at a time


def _readme() -> str:
    return (
        "Alles wat jullie gezin in het Gezinsportaal bewaart.\n"
        "gezin.json: het gezin, het gezinsplan, het dossier, de berichten, de gasten en wie er\n"
        "meekeek (het toegangslog). files/: de bestanden.\n"
        "Alleen wat jij mag zien staat erin.\n"
    )


def send(family: Family, actor: Actor) -> Any:
    """The archive as a download response."""
    from flask import send_file

    return send_file(
        build(family, actor),
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"gezinsportaal-{family.id}-{clock.today().isoformat()}.zip",
        max_age=0,
    )
