"""Extension objects, bare until `init_app`; nothing here does I/O at import time."""

from flask_socketio import SocketIO
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
socketio = SocketIO()
