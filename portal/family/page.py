"""What every page of a family's space shows about the person reading it: their own role, or
the parts and last day of their guest access, and their unread messages (for the menu)."""

from __future__ import annotations

from typing import Any

from portal.access import current_actor
from portal.access.policy import role_of
from portal.core import clock
from portal.family.models import Family


def family_context(family: Family) -> dict[str, Any]:
    """What every family page shows about the signed-in person's own role (or guest access)."""
    actor = current_actor()
    member = actor.membership(family.id)
    today = clock.today()
    context: dict[str, Any] = {"guest_grant": None, "guest_parts": {}, "guest_until": None}
    if member is not None:
        role = role_of(member, today)
    else:
        from portal.access.grants import last_day
        from portal.access.policy import grant_state

        now = clock.now()
        active = [g for g in actor.grants(family.id) if grant_state(g, now) == "active"]
        role = "guest" if active else "none"
        if active:
            context["guest_grant"] = active[0]
            context["guest_until"] = max(last_day(g) for g in active)
            parts: dict[str, str] = {}
            for grant in active:
                for part in grant.parts:
                    if parts.get(part.part) != "write":
                        parts[part.part] = part.level
            context["guest_parts"] = parts
    context.update(my_role=role, can_manage=role == "parent_with_authority")
    sees_messages = role != "none" and (role != "guest" or "messages" in context["guest_parts"])
    if sees_messages and actor.user is not None:
        from portal.messaging.services import total_unread

        context["unread_messages"] = total_unread(actor.user, family)
    return context
