"""`flask portal ...`: migrations, serving, audit verification, demo data."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

portal_cli = AppGroup("portal", help="Family portal commands.")


@portal_cli.command("migrate")
def migrate() -> None:
    """Bring the database schema up to date (alembic upgrade head)."""
    from portal.migrate import upgrade

    upgrade(current_app.config["PORTAL_SETTINGS"].database_url)
    click.echo("Database is up to date.")


@portal_cli.command("audit-verify")
def audit_verify() -> None:
    """Recompute the audit hash chains; exit 1 and list any changed or removed row."""
    from portal.access import audit

    checked, problems = audit.verify()
    for problem in problems:
        click.echo(f"chain {problem.chain_key} row {problem.seq}: {problem.problem}")
    if problems:
        click.echo(f"{len(problems)} problem(s) in {checked} rows.")
        sys.exit(1)
    click.echo(f"Audit log intact: {checked} rows checked.")


@portal_cli.command("send-reminders")
def send_reminders() -> None:
    """Mail families and professionals 14 and 3 days before a guest's access ends (daily)."""
    from portal import db
    from portal.access import grants

    count = grants.send_reminders()
    db.commit()
    click.echo(f"Reminders sent for {count} grant(s).")


@portal_cli.command("send-message-mails")
def send_message_mails() -> None:
    """Mail people about messages waiting unread (run every 5 minutes from cron)."""
    from portal import db
    from portal.messaging.notify import send_message_mails as send

    count = send()
    db.commit()
    click.echo(f"Message mails sent: {count}.")


@portal_cli.command("purge-uploads")
@click.option("--older-than-hours", default=24, show_default=True, type=click.IntRange(min=1))
def purge_uploads(older_than_hours: int) -> None:
    """Remove uploads never sent or attached within the given hours (daily from cron)."""
    from datetime import timedelta

    from portal import db
    from portal.files.services import purge_unattached

    count = purge_unattached(timedelta(hours=older_than_hours))
    db.commit()
    click.echo(f"Unattached uploads removed: {count}.")


@portal_cli.command("draw-previews")
def draw_previews() -> None:
    """Draw the previews of photos uploaded before the portal made them (once, after updating)."""
    from portal.files.previews import backfill

    drawn, seen = backfill()
    click.echo(f"Previews drawn: {drawn} of {seen} photo(s) without one.")


@portal_cli.command("seed-demo")
def seed_demo() -> None:
    """Load a realistic demo family (for trying the portal, never in production)."""
    from portal.demo import seed

    if current_app.config["PORTAL_SETTINGS"].environment == "production":
        raise click.ClickException("Demo data is not loaded in production.")
    for line in seed():
        click.echo(line)


def init_app(app: Flask) -> None:
    app.cli.add_command(portal_cli)
