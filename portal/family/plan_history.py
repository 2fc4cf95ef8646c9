"""Every change to the plan is kept, without each service having to remember it: at flush, each
new, changed or removed plan item writes a PlanChange with its full state. The history page
shows them as diffs; restoring copies an earlier state back (itself a new change).

Items of the plan are registered in PARTS (model -> part name); a new part of the plan only
needs an entry there."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import has_request_context
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from portal import db
from portal.core import clock
from portal.family.models import (
    Agreement,
    Evaluation,
    Goal,
    GoalScore,
    NetworkPetal,
    Plan,
    SafetyPlan,
)
from portal.family.plan_history_models import PlanChange

PARTS: dict[type, str] = {
    Plan: "questions",
    Goal: "goals",
    GoalScore: "goals",
    Agreement: "agreements",
    NetworkPetal: "network",
    SafetyPlan: "safety",
    Evaluation: "evaluations",
}
# Shown as the kind of change ("Weggehaald", "Teruggezet"), not as a field with a timestamp.
SAID_BY_THE_CHANGE = frozenset({"removed_at"})
# Bookkeeping columns: not shown as changes, never restored.
SKIP = frozenset({"id", "family_id", "version", "updated_at", "updated_by_id", "updated_by_name"})


def register(model: type, part: str) -> None:
    PARTS[model] = part


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def state_of(obj: Any) -> dict[str, Any]:
    return {c.key: _plain(getattr(obj, c.key)) for c in obj.__mapper__.column_attrs}


def _who() -> tuple[int | None, str]:
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.id, current_user.display_name
    return None, "systeem"


def _changed_fields(obj: Any) -> list[str]:
    state = inspect(obj)
    return [
        attr.key
        for attr in state.mapper.column_attrs
        if attr.key not in SKIP and state.attrs[attr.key].history.has_changes()
    ]


def _log(session: Session, obj: Any, change: str, fields: list[str]) -> None:
    user_id, name = _who()
    session.add(
        PlanChange(
            family_id=obj.family_id,
            part=PARTS[type(obj)],
            object_type=type(obj).__name__,
            object_id=obj.id,
            change=change,
            fields=json.dumps(fields),
            state=json.dumps(state_of(obj), ensure_ascii=False),
            by_user_id=user_id,
            by_name=name[:100],
        )
    )


@event.listens_for(Session, "before_flush")
def _remember_changes(session: Session, _context: Any, _instances: Any) -> None:
    for obj in list(session.dirty):
        if type(obj) in PARTS and session.is_modified(obj, include_collections=False):
            fields = _changed_fields(obj)
            if not fields:
                continue
            removed = "removed_at" in fields and getattr(obj, "removed_at", None) is not None
            change = getattr(obj, "_restoring", None) or ("removed" if removed else "edited")
            _log(session, obj, change, fields)
    # New items have no id before the flush: log them after it.
    pending = [o for o in session.new if type(o) in PARTS]
    if pending:
        session.info.setdefault("plan_new", []).extend(pending)


@event.listens_for(Session, "after_flush")
def _remember_new(session: Session, _context: Any) -> None:
    pending = session.info.pop("plan_new", [])
    for obj in pending:
        fields = [k for k, v in state_of(obj).items() if k not in SKIP and v not in (None, "")]
        if fields:  # an empty row (the safety plan, made when first shown) is not a change
            _log(session, obj, "created", fields)


# --- reading and restoring ----------------------------------------------------------------


@dataclass(frozen=True)
class FieldDiff:
    field: str
    before: str
    after: str
    lines: list[tuple[str, str]]  # for long text: ("+"/"-"/" ", line)


@dataclass(frozen=True)
class Entry:
    change: PlanChange
    title: str
    diffs: list[FieldDiff]


def _title(state: dict[str, Any], goals: dict[int, str] | None = None) -> str:
    for key in ("title", "what", "name", "signals"):
        if state.get(key):
            return str(state[key])
    if "score" in state:
        # A score alone ("7") says nothing in a list of changes: name its goal.
        goal = (goals or {}).get(state.get("goal_id") or 0)
        score = str(state.get("score"))
        return _("%(goal)s: score %(score)s", goal=goal, score=score) if goal else score
    return ""


def _goal_titles(family_id: int, states: list[dict[str, Any]]) -> dict[int, str]:
    """The titles of the goals these scores belong to (one query; removed goals too)."""
    ids = {int(s["goal_id"]) for s in states if "score" in s and s.get("goal_id")}
    if not ids:
        return {}
    rows = db.session.execute(
        select(Goal.id, Goal.title).where(Goal.family_id == family_id, Goal.id.in_(ids))
    )
    return {goal_id: title for goal_id, title in rows}


def history(family_id: int, part: str | None, limit: int, before_id: int | None) -> list[Entry]:
    """Changes newest first, each compared with the same item's state before it."""
    statement = select(PlanChange).where(PlanChange.family_id == family_id)
    if part:
        statement = statement.where(PlanChange.part == part)
    if before_id:
        statement = statement.where(PlanChange.id < before_id)
    changes = list(db.session.scalars(statement.order_by(PlanChange.id.desc()).limit(limit)))
    previous = _previous_states(changes)
    states = {change.id: json.loads(change.state) for change in changes}
    goals = _goal_titles(family_id, list(states.values()))
    entries = []
    for change in changes:
        after = states[change.id]
        before = previous.get(change.id, {})
        diffs = []
        for field in json.loads(change.fields):
            if field in SAID_BY_THE_CHANGE:
                continue
            old, new = str(before.get(field) or ""), str(after.get(field) or "")
            lines = []
            if "\n" in old or "\n" in new or len(old) + len(new) > 120:
                lines = [
                    (line[0], line[2:])
                    for line in difflib.ndiff(old.splitlines(), new.splitlines())
                    if line[:1] in "+- "
                ]
            diffs.append(FieldDiff(field, old, new, lines))
        entries.append(Entry(change, _title(after, goals) or _title(before, goals), diffs))
    return entries


def _previous_states(changes: list[PlanChange]) -> dict[int, dict[str, Any]]:
    """For each change, the item's state just before it (one query for the whole page)."""
    if not changes:
        return {}
    keys = {(c.object_type, c.object_id) for c in changes}
    wanted = {c.id for c in changes}
    rows = db.session.scalars(
        select(PlanChange)
        .where(
            PlanChange.family_id == changes[0].family_id,
            PlanChange.object_id.in_({object_id for _type, object_id in keys}),
            PlanChange.id <= max(wanted),
        )
        .order_by(PlanChange.id)
    )
    last: dict[tuple[str, int], dict[str, Any]] = {}
    result: dict[int, dict[str, Any]] = {}
    for row in rows:
        key = (row.object_type, row.object_id)
        if key not in keys:
            continue
        if row.id in wanted:
            result[row.id] = last.get(key, {})
        last[key] = json.loads(row.state)
    return result


def _python_type(attr: Any) -> type | None:
    column_type = attr.columns[0].type
    column_type = getattr(column_type, "impl_instance", column_type)  # through TypeDecorators
    try:
        found: type = column_type.python_type
    except NotImplementedError:
        return None
    return found


class RestoreError(Exception):
    pass


def restore(change: PlanChange) -> Any:
    """Put the item back as it was after `change` (a new change, 'restored'); for a removal,
    as it was when it was taken out, and back in the plan."""
    model = next((m for m in PARTS if m.__name__ == change.object_type), None)
    if model is None:
        raise RestoreError("unknown")
    obj = db.session.get(model, change.object_id)
    if obj is None:
        raise RestoreError("gone")
    state = json.loads(change.state)
    for attr in obj.__mapper__.column_attrs:
        key = attr.key
        if key in SKIP or key not in state or key == "created_at":
            continue
        value = state[key]
        # Through the TypeDecorator: UTCDateTime itself says only "object", and a time kept as
        # text (removed_at, done_at) must become a datetime again.
        column_type = _python_type(attr)
        if value is not None and column_type is datetime:
            value = datetime.fromisoformat(value)
        elif value is not None and column_type is date:
            value = date.fromisoformat(value)
        setattr(obj, key, value)
    if change.change == "removed" and hasattr(obj, "removed_at"):
        # "Put back" on a removal: the item as it was when it was taken out, in the plan again.
        obj.removed_at = None
    if hasattr(obj, "updated_at"):
        obj.updated_at = clock.now()
    obj._restoring = "restored"  # read by the flush listener: this change is a restore
    db.session.flush()
    obj._restoring = None
    return obj
