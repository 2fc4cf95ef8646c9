"""The family portal: create_app() builds one instance from typed settings.

Importing this package imports nothing that does I/O (no Flask yet), so that `python -m portal`
can monkey-patch for gevent before the standard library's socket and ssl are loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from config import Settings, SettingsError

if TYPE_CHECKING:
    from flask import Flask


def create_app(settings: Settings | None = None) -> Flask:
    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix

    settings = settings or Settings.from_env()
    if settings.async_mode == "gevent" and not _gevent_patched():
        raise SettingsError(
            "PORTAL_ASYNC_MODE=gevent needs a monkey-patched process: start it with "
            "`python -m portal` or gunicorn's gevent worker (config/gunicorn.conf.py)"
        )
    app = Flask(
        __name__,
        static_folder="../static",
        static_url_path="/static",
        instance_relative_config=False,
    )
    from portal.core.request import PortalRequest

    app.request_class = PortalRequest
    app.config.update(
        PORTAL_SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_content_length,
        PERMANENT_SESSION_LIFETIME=settings.session_lifetime_hours * 3600,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        JSON_SORT_KEYS=False,
        TESTING=settings.environment == "test",
    )
    from portal import cli, db
    from portal.auth import passwords

    passwords.configure(settings.argon2_time_cost, settings.argon2_memory_kib)
    from portal.messaging.limits import send_limit

    send_limit.configure(settings.message_burst, settings.message_per_minute, settings.redis_url)
    from portal.live import presence

    presence.configure(settings.redis_url)
    db.init_app(app)
    _init_extensions(app)
    _register_blueprints(app)
    cli.init_app(app)
    _request_hooks(app)
    if settings.environment == "production":
        # Behind nginx: trust one proxy hop for the client address and scheme. Outermost, so
        # that Socket.IO's handshakes see the client too.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    return app


def _init_extensions(app: Flask) -> None:
    from portal.auth import login, throttle
    from portal.core import errors, i18n, security
    from portal.extensions import csrf, socketio
    from portal.files import limits
    from portal.live.frames import ClientFrame
    from portal.live.origins import allowed_origins

    limits.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    login.init_app(app)
    throttle.init_app(app)
    csrf.init_app(app)
    errors.init_app(app)
    settings = app.config["PORTAL_SETTINGS"]
    socketio.init_app(
        app,
        async_mode=settings.async_mode,
        cors_allowed_origins=allowed_origins(settings),
        message_queue=settings.redis_url or None,
        # One frame may carry a message (10,000 characters) with room to spare, not a file.
        max_http_buffer_size=64 * 1024,
        serializer=ClientFrame,  # every client event reaches the namespace and is answered
    )
    from portal import live

    live.init_app(app)
    from portal.core import caching, templating

    templating.init_app(app)
    caching.init_app(app)


def _gevent_patched() -> bool:
    from portal.db import gevent_threads

    if not gevent_threads():
        return False
    from gevent import monkey

    return bool(monkey.is_module_patched("socket"))


def _register_blueprints(app: Flask) -> None:
    import portal.access.grant_views
    import portal.family.changes
    import portal.family.export_views
    import portal.family.member_views
    import portal.family.plan_history_views
    import portal.family.plan_parts_views
    import portal.family.plan_remove_views
    import portal.family.plan_version_views
    import portal.family.plan_views  # noqa: F401  (routes on the access and family blueprints)
    from portal import dossier
    from portal.access.views import bp as access_bp
    from portal.api import bp as api_bp
    from portal.auth.oidc import bp as oidc_bp
    from portal.auth.views import bp as auth_bp
    from portal.family.views import bp as family_bp
    from portal.files.views import bp as files_bp
    from portal.main import bp as main_bp
    from portal.messaging.views import bp as messaging_bp
    from portal.professional.views import bp as professional_bp

    for blueprint in (
        main_bp,
        auth_bp,
        oidc_bp,
        family_bp,
        dossier.create_blueprint(),
        access_bp,
        professional_bp,
        messaging_bp,
        files_bp,
        api_bp,
    ):
        app.register_blueprint(blueprint)


def _request_hooks(app: Flask) -> None:
    from flask import abort, request

    from portal import db
    from portal.auth.views import require_second_factor_for_professionals
    from portal.core.args import MAX_ID

    @app.before_request
    def _ids_no_row_can_have() -> None:
        # A number in the path that no row can have (portal.core.args.MAX_ID) does not exist:
        # PostgreSQL would refuse the query instead of finding nothing.
        for value in (request.view_args or {}).values():
            if isinstance(value, int) and not 0 < value < MAX_ID:
                abort(404)

    app.before_request(require_second_factor_for_professionals)

    @app.after_request
    def _commit(response: Any) -> Any:
        # The one commit point of a request: data and its audit rows land together or not at all.
        if response.status_code < 500:
            db.commit()
        else:
            db.rollback()
        return response

    @app.teardown_request
    def _rollback_on_error(exc: BaseException | None) -> None:
        if exc is not None:
            db.rollback()
