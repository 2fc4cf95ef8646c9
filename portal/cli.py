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


def _operator_log(family_id: int, action: str, member_id: int, reference: str, reason: str) -> None:
    """One row in the family's own log ("Wie keek mee?"): the operator changed this, on the
    strength of this decision."""
    from portal.access import audit

    audit.write(
        family_id=family_id,
        actor_user_id=None,
        actor_name="Beheerder van het portaal",
        actor_role="operator",
        organisation=None,
        basis=f"court:{reference}"[:60],
        action=action,
        object_type="member",
        object_id=str(member_id),
        outcome="allowed",
        reason=reason,
        client_address=None,
    )


def _member(member_id: int) -> object:
    from portal import db
    from portal.family.models import Member

    member = db.session.get(Member, member_id)
    if member is None or member.removed_at is not None:
        raise click.ClickException(f"No current member with id {member_id}.")
    return member


@portal_cli.command("set-authority")
@click.option("--parent", "parent_id", type=int, required=True, help="The parent's member id.")
@click.option("--child", "child_id", type=int, required=True, help="The child's member id.")
@click.option("--holds/--ends", default=True, help="Give authority (default) or end it.")
@click.option("--court-reference", required=True, help="The court decision's reference.")
def set_authority(parent_id: int, child_id: int, holds: bool, court_reference: str) -> None:
    """Record a court decision on parental authority (gezag) of one parent over one child.
    The only way authority changes after someone was added; logged in the family's log."""
    from portal import db
    from portal.access import authority
    from portal.family.models import Member

    reference = court_reference.strip()
    if not reference:
        raise click.ClickException("A court reference is required.")
    parent, child = _member(parent_id), _member(child_id)
    assert isinstance(parent, Member) and isinstance(child, Member)
    try:
        changed = authority.change_by_operator(parent, child, holds, reference[:100])
    except authority.AuthorityError as exc:
        raise click.ClickException(exc.code) from None
    if not changed:
        click.echo("Nothing to change.")
        return
    action = "member.authority.grant" if holds else "member.authority.end"
    _operator_log(child.family_id, action, child.id, reference, f"parent_member:{parent.id}")
    db.commit()
    click.echo(
        f"Authority of member {parent.id} over member {child.id} "
        f"{'recorded' if holds else 'ended'} ({reference})."
    )


@portal_cli.command("set-birth-date")
@click.option("--member", "member_id", type=int, required=True, help="The member id.")
@click.option("--date", "birth_date", type=click.DateTime(formats=["%Y-%m-%d"]), required=True)
@click.option("--reference", required=True, help="What the change rests on (a document).")
def set_birth_date(member_id: int, birth_date: object, reference: str) -> None:
    """Correct a young person's birth date (their rights follow their age, so nobody in the
    family changes it once they joined); logged in the family's log."""
    from datetime import datetime

    from portal import db
    from portal.core import clock
    from portal.family.models import Member

    reference = reference.strip()
    if not reference:
        raise click.ClickException("A reference is required.")
    member = _member(member_id)
    assert isinstance(member, Member) and isinstance(birth_date, datetime)
    day = birth_date.date()
    if day > clock.today():
        raise click.ClickException("That date is in the future.")
    member.birth_date = day
    _operator_log(member.family_id, "member.birth_date", member.id, reference, "operator")
    db.commit()
    click.echo(f"Birth date of member {member.id} set to {day.isoformat()} ({reference}).")
