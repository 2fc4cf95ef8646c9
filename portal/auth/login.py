"""Flask-Login wiring: the cookie holds a server-side session token, checked on every request."""

from __future__ import annotations

from flask import Flask, session
from flask_login import LoginManager, login_user, logout_user
from flask_login import current_user as _current_user

from portal.auth import services
from portal.auth.models import User

login_manager = LoginManager()
login_manager.login_view = "auth.signin"
login_manager.session_protection = None  # the server-side session row is the protection


@login_manager.user_loader
def _load(token: str) -> User | None:
    found = services.load_session(token)
    if found is None:
        return None
    user, method = found
    user.signin_method = method
    return user


def session_token() -> str | None:
    """The server-side session token the cookie (or a socket's copy of it) carries."""
    token = session.get("_user_id")
    return token if isinstance(token, str) and token else None


def adopt(user: User | None, method: str | None, token: str) -> None:
    """Make `user` this request's current_user, as the loader above would have: for a socket
    event that found the session's user in the one query it needs anyway (a live session, or
    None for an ended one). Flask-Login keeps the user in `g._login_user`; its own setter."""
    if user is not None:
        user.session_token = token
        user.signin_method = method or ""
    login_manager._update_request_context_with_user(user)


def adopt_bearer(user: User, method: str) -> None:
    """Make the owner of an API bearer token this request's current_user. No cookie session
    is involved: nothing to sign out of, and no CSRF to check (a browser never adds the
    Authorization header to a cross-site request by itself)."""
    user.session_token = None
    user.signin_method = method
    user.bearer = True
    login_manager._update_request_context_with_user(user)


def must_enrol_second_factor(user: User, method: str | None) -> bool:
    """A professional signed in with a password has to set up TOTP before anything else (one
    signed in through their organisation's provider brings its second factor)."""
    return user.is_professional and not user.totp_enabled and method != "oidc"


# What a visitor chose before signing in and keeps afterwards; everything else is dropped.
KEPT_ACROSS_SIGN_IN = ("locale", "invite_token", "guest_invite_token")


def _clear_session_keeping_choices() -> None:
    kept = {key: session[key] for key in KEPT_ACROSS_SIGN_IN if key in session}
    session.clear()
    session.update(kept)


def sign_in(user: User, method: str, address: str | None) -> None:
    """Rotate: drop everything the pre-sign-in session held, then start a fresh server session."""
    _clear_session_keeping_choices()
    services.start_session(user, method, address)
    login_user(user)
    session.permanent = True


def sign_out() -> None:
    if _current_user.is_authenticated:
        token = _current_user.session_token
        services.end_session(token)
        from portal.live.namespace import end_session_now

        # Sockets opened with this session (other tabs, other instances too) close once the
        # sign-out is stored: end_session_now publishes it after commit.
        end_session_now(token)
    logout_user()
    _clear_session_keeping_choices()


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
