"""The access policy, the audit log, and the family-scoped loaders every view uses."""

from portal.access.guard import (
    authorize,
    current_actor,
    load_family,
    load_member,
    may,
    record_grant_event,
    recorded_if_refused,
)

__all__ = [
    "authorize",
    "current_actor",
    "load_family",
    "load_member",
    "may",
    "record_grant_event",
    "recorded_if_refused",
]
