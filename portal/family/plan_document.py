"""A proposed version drawn as the plan itself: its snapshot (the state of every item when it was
proposed) turned into what `family/_plan_document.html` draws — the template the PDF uses — so
the version people sign reads like the plan, with words and written-out dates, not stored codes.

Snapshots stored before de bloem's guests were kept in them, or with fewer fields, still draw:
every field is read with a default."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from portal.family.models import WRAPAROUND_QUESTIONS, Family

PETAL_KINDS = ("informal", "professional", "guest")


def flower_for_snapshot(family: Family) -> list[dict[str, Any]]:
    """De bloem as it is now (the family's petals and the guests with the plan part), to keep
    with a proposed version."""
    from portal.family import plan_parts
    from portal.family.plan_parts_views import flower_entries

    entries = flower_entries(
        family, False, plan_parts.petals(family), plan_parts.guest_petals(family)
    )
    return [
        {
            "name": e["name"],
            "relation": e.get("relation") or "",
            "contact": e.get("contact") or "",
            "kind": e["kind"],
            "until": e["until"].isoformat() if e.get("until") else None,
            "guest": bool(e.get("guest")),
        }
        for e in entries
    ]


def _day(value: Any) -> date | None:
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _moment(value: Any) -> datetime | None:
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _text(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _items(snapshot: dict[str, Any], part: str, kind: str) -> list[dict[str, Any]]:
    found = snapshot.get(part)
    if not isinstance(found, list):
        return []
    return [i for i in found if isinstance(i, dict) and i.get("kind", kind) == kind]


def _flower(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    kept = snapshot.get("flower")
    source = (
        kept
        if isinstance(kept, list)
        else [
            {**petal, "until": None, "guest": bool(petal.get("guest_user_id"))}
            for petal in _items(snapshot, "network", "NetworkPetal")
        ]
    )
    return [
        {
            "name": _text(e, "name"),
            "relation": _text(e, "relation"),
            "contact": _text(e, "contact"),
            "kind": e.get("kind") if e.get("kind") in PETAL_KINDS else "informal",
            "until": _day(e.get("until")),
            "guest": bool(e.get("guest")),
            "edit": None,
        }
        for e in source
        if isinstance(e, dict)
    ]


def from_snapshot(snapshot: dict[str, Any], family: Family, day: date) -> dict[str, Any]:
    """The template context of `_plan_document.html` for a version's snapshot; `day` is the
    day it was proposed (an agreement is late by that day, not by today)."""
    from portal.family import plan_parts
    from portal.family.plan_views import question_labels

    questions = next(iter(_items(snapshot, "questions", "Plan")), {})
    goals = [
        {
            "id": g.get("id"),
            "title": _text(g, "title"),
            "description": _text(g, "description"),
            "phase": _text(g, "phase"),
            "owner": _text(g, "owner"),
        }
        for g in _items(snapshot, "goals", "Goal")
    ]
    scores: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for s in _items(snapshot, "goals", "GoalScore"):
        on = _day(s.get("scored_on"))
        if on is not None and isinstance(s.get("score"), int):
            scores[s.get("goal_id")].append({"score": s["score"], "scored_on": on})
    for history in scores.values():
        history.sort(key=lambda s: s["scored_on"])
    agreements = [
        {
            "what": _text(a, "what"),
            "owner_name": _text(a, "owner_name"),
            "due_on": _day(a.get("due_on")),
            "done_at": _moment(a.get("done_at")),
        }
        for a in _items(snapshot, "agreements", "Agreement")
    ]
    agreements.sort(key=lambda a: (a["done_at"] is not None, a["due_on"] or date.max))
    safety = next(iter(_items(snapshot, "safety", "SafetyPlan")), {})
    evaluations = [
        {
            "title": _text(e, "title"),
            "held_on": _day(e.get("held_on")),
            "start_time": _text(e, "start_time"),
            "participants": _text(e, "participants"),
            "went_well": _text(e, "went_well"),
            "changes": _text(e, "changes"),
            "next_steps": _text(e, "next_steps"),
        }
        for e in _items(snapshot, "evaluations", "Evaluation")
    ]
    evaluations.sort(key=lambda e: e["held_on"] or date.max)
    flower = _flower(snapshot)
    return {
        "family": family,
        "plan": {name: _text(questions, name) for name in WRAPAROUND_QUESTIONS},
        "questions": question_labels(),
        "goals": goals,
        "scores": dict(scores),
        "agreements": agreements,
        "safety": {key: _text(safety, key) for key in ("signals", "actions", "contacts")},
        "evaluations": evaluations,
        "flower": list(zip(flower, plan_parts.flower_layout(len(flower)), strict=False)),
        "flower_entries": flower,
        "flower_max": plan_parts.FLOWER_MAX,
        "today": day,
    }
