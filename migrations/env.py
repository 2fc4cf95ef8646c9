"""Alembic environment: the database URL comes from the portal's settings (or the caller)."""

from __future__ import annotations

from alembic import context

from config import Settings
from portal.db import Base, make_engine
from portal.models import load_all

load_all()
config = context.config
url = config.attributes.get("database_url") or Settings.from_env().database_url
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(url)
    sqlite = url.startswith("sqlite")
    with engine.connect() as connection:
        if sqlite:
            # A batch migration on SQLite copies a table, drops the old one and renames the
            # copy. With foreign keys on, that DROP first deletes every row, and ON DELETE
            # CASCADE / SET NULL fire on the rows that point at it: changing a column of
            # `conversation` would delete every message. So they are off while migrating (set
            # on the raw connection: inside a transaction SQLite ignores the pragma) and the
            # result is checked before it is committed, as SQLite's own ALTER TABLE recipe does.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=sqlite,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
            connection.commit()
        finally:
            if sqlite:
                connection.rollback()
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
