"""Goals (doelen) and agreements (afspraken) in the plan. Services flush; the request commits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from portal import db
from portal.auth.models import User
from portal.core import clock
from portal.core.sanitize import plain_text
from portal.family.models import (
    GOAL_OWNERS,
    GOAL_PHASES,
    Agreement,
    Evaluation,
    Family,
    Goal,
    GoalScore,
)
from portal.family.services import Conflict, FamilyError

Removable = Goal | Agreement | Evaluation  # what can be taken out of the plan (and put back)


@dataclass
class GoalData:
    title: str
    description: str = ""
    owner: str = "family"
    phase: str = "not_started"


def _check_goal(data: GoalData) -> GoalData:
    title = plain_text(data.title, 200)
    if not title:
        raise FamilyError("title_required", "title")
    if data.owner not in GOAL_OWNERS:
        raise FamilyError("unknown_owner", "owner")
    if data.phase not in GOAL_PHASES:
        raise FamilyError("unknown_phase", "phase")
    return GoalData(title, (data.description or "").strip()[:5000], data.owner, data.phase)


def goals(
    family: Family, *, offset: int = 0, limit: int | None = None, after_id: int | None = None
) -> list[Goal]:
    """The family's goals, oldest first; a page of them when `limit` is given (by `offset` for
    the page's pager, or after the goal `after_id` for the API's cursor)."""
    statement = select(Goal).where(Goal.family_id == family.id, Goal.removed_at.is_(None))
    if after_id is not None:
        statement = statement.where(Goal.id > after_id)
    return list(db.session.scalars(statement.order_by(Goal.id).offset(offset).limit(limit)))


GOAL_CHOICES_MAX = 100


def goals_to_link(family: Family) -> list[Goal]:
    """The goals an agreement can be linked to in the form: the newest ones, oldest first
    (bounded, so the form stays usable and cheap whatever the plan holds)."""
    return list(
        db.session.scalars(
            select(Goal)
            .where(Goal.family_id == family.id, Goal.removed_at.is_(None))
            .order_by(Goal.id.desc())
            .limit(GOAL_CHOICES_MAX)
        )
    )[::-1]


def scores_by_goal(
    family: Family, goal_ids: Iterable[int] | None = None
) -> dict[int, list[GoalScore]]:
    """The scores of the family's goals (or of `goal_ids`) in one query, oldest first per goal."""
    statement = select(GoalScore).where(GoalScore.family_id == family.id)
    if goal_ids is not None:
        statement = statement.where(GoalScore.goal_id.in_(list(goal_ids)))
    result: dict[int, list[GoalScore]] = {}
    for score in db.session.scalars(statement.order_by(GoalScore.scored_on, GoalScore.id)):
        result.setdefault(score.goal_id, []).append(score)
    return result


def add_goal(family: Family, by: User, data: GoalData) -> Goal:
    checked = _check_goal(data)
    goal = Goal(
        family_id=family.id,
        title=checked.title,
        description=checked.description,
        owner=checked.owner,
        phase=checked.phase,
        created_by_name=by.display_name,
    )
    db.session.add(goal)
    db.session.flush()
    return goal


def update_goal(goal: Goal, by: User, data: GoalData, version: int) -> Goal:
    if goal.version != version:
        raise Conflict(goal)
    checked = _check_goal(data)
    goal.title, goal.description = checked.title, checked.description
    goal.owner, goal.phase = checked.owner, checked.phase
    goal.updated_by_name, goal.updated_at = by.display_name, clock.now()
    db.session.flush()
    return goal


def add_score(goal: Goal, by: User, score: int, on: date | None) -> GoalScore:
    if not isinstance(score, int) or isinstance(score, bool) or not 0 <= score <= 10:
        raise FamilyError("score_range", "score")
    day = on or clock.today()
    if day > clock.today():
        raise FamilyError("birth_date_future", "scored_on")
    entry = GoalScore(
        goal_id=goal.id,
        family_id=goal.family_id,
        score=score,
        scored_on=day,
        by_name=by.display_name,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


@dataclass
class AgreementData:
    what: str
    owner_user_id: int | None
    owner_name: str
    due_on: date | None = None
    goal_id: int | None = None
    owner_petal_id: int | None = None


def _agreements_in(family: Family, done: bool) -> Any:
    return select(Agreement).where(
        Agreement.family_id == family.id,
        Agreement.removed_at.is_(None),
        Agreement.done_at.is_not(None) if done else Agreement.done_at.is_(None),
    )


def agreements(
    family: Family, *, offset: int = 0, limit: int | None = None, open_total: int = 0
) -> list[Agreement]:
    """Open agreements first, by due date, then the done ones; a page of them when `limit` is
    given (with `open_total` from `plan_counts`). A page is read from two index ranges
    (open, done) instead of sorting every agreement of the family for each page."""
    if limit is None:
        return list(
            db.session.scalars(
                select(Agreement)
                .where(Agreement.family_id == family.id, Agreement.removed_at.is_(None))
                .order_by(Agreement.done_at.is_not(None), Agreement.due_on, Agreement.id)
            )
        )
    order = (Agreement.due_on, Agreement.id)
    page = list(
        db.session.scalars(
            _agreements_in(family, done=False)
            .order_by(*order)
            .offset(min(offset, open_total))
            .limit(max(0, min(limit, open_total - offset)))
        )
    )
    # Always asked (perhaps for none), so a page costs the same queries wherever it falls.
    page += db.session.scalars(
        _agreements_in(family, done=True)
        .order_by(*order)
        .offset(max(0, offset - open_total))
        .limit(limit - len(page))
    )
    return page


def agreements_by_id(family: Family, *, limit: int, after_id: int | None = None) -> list[Agreement]:
    """A page of the family's agreements in the order they were made, after `after_id` (the
    API's cursor: stable while others add or tick off agreements, unlike the page's order)."""
    statement = select(Agreement).where(
        Agreement.family_id == family.id, Agreement.removed_at.is_(None)
    )
    if after_id is not None:
        statement = statement.where(Agreement.id > after_id)
    return list(db.session.scalars(statement.order_by(Agreement.id).limit(limit)))


def plan_counts(family: Family) -> tuple[int, int, int]:
    """(goals, open agreements, done agreements) of the family, for the page's pagers: one
    statement (one round trip), each count on its own index range."""

    def count(statement: Any) -> Any:
        return statement.with_only_columns(func.count()).order_by(None).scalar_subquery()

    goals_in = select(Goal).where(Goal.family_id == family.id, Goal.removed_at.is_(None))
    row = db.session.execute(
        select(
            count(goals_in),
            count(_agreements_in(family, done=False)),
            count(_agreements_in(family, done=True)),
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)


def _check_agreement(family: Family, data: AgreementData) -> AgreementData:
    what = plain_text(data.what, 300)
    if not what:
        raise FamilyError("what_required", "what")
    if not data.owner_name:
        raise FamilyError("owner_required", "owner")
    if (
        data.goal_id is not None
        and db.session.scalar(
            select(Goal.id).where(Goal.id == data.goal_id, Goal.family_id == family.id)
        )
        is None
    ):
        raise FamilyError("unknown_goal", "goal_id")
    return AgreementData(
        what,
        data.owner_user_id,
        data.owner_name[:100],
        data.due_on,
        data.goal_id,
        data.owner_petal_id,
    )


def add_agreement(family: Family, by: User, data: AgreementData) -> Agreement:
    checked = _check_agreement(family, data)
    agreement = Agreement(
        family_id=family.id,
        what=checked.what,
        owner_user_id=checked.owner_user_id,
        owner_name=checked.owner_name,
        due_on=checked.due_on,
        goal_id=checked.goal_id,
        owner_petal_id=checked.owner_petal_id,
        created_by_name=by.display_name,
    )
    db.session.add(agreement)
    db.session.flush()
    return agreement


def set_done(agreement: Agreement, done: bool, version: int) -> Agreement:
    if agreement.version != version:
        raise Conflict(agreement)
    agreement.done_at = clock.now() if done else None
    db.session.flush()
    return agreement


def remove(item: Removable, version: int | None) -> Removable:
    """Take a goal, agreement or evaluation out of the plan. It stays in the plan's history and
    can be put back from there (nothing a guest wrote disappears for good)."""
    if version != item.version:
        raise Conflict(item)
    item.removed_at = clock.now()
    db.session.flush()
    return item
