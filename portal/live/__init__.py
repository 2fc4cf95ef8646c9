"""Real time over Socket.IO, namespace /live (see ../shared/API.md).

Connections are authenticated at connect; rooms are joined only after a policy check; client
events are re-checked one by one and always answered; family events go to the sign-ins the
policy allows at the moment of the change. Revocation, removal and sign-out are published after
commit and close the affected sockets on every instance at once; expiry is a timer per
subscription; a sweep re-checks every subscription as a safety net.
"""

from portal.live.events import notify
from portal.live.namespace import NAMESPACE, init_app

__all__ = ["NAMESPACE", "init_app", "notify"]
