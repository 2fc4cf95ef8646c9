"""Real time over Socket.IO, namespace /live (see ../shared/API.md).

Connections are authenticated at connect; rooms are joined only after a policy check; client
events are re-checked one by one; revocation, expiry, removal and sign-out end a subscription
within one sweep (0.5 s) on every instance, and at once on the instance that made the change.
"""

from portal.live.events import notify
from portal.live.namespace import NAMESPACE, init_app

__all__ = ["NAMESPACE", "init_app", "notify"]
