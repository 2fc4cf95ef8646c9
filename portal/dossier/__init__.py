"""The dossier: entries written by the family or by guests with the dossier part, each with a
visibility its author chooses, a kept history of every change, attachments and search."""

from __future__ import annotations

from flask import Blueprint

ENTRIES = "/families/<int:family_id>/dossier"
ENTRY = f"{ENTRIES}/<int:entry_id>"
READ_WRITE = ["GET", "POST"]


def create_blueprint() -> Blueprint:
    """The dossier's pages, each route named here (the views module only defines functions)."""
    from portal.dossier import views

    bp = Blueprint("dossier", __name__, template_folder="templates")
    bp.add_url_rule(ENTRIES, view_func=views.entries)
    bp.add_url_rule(f"{ENTRIES}/new", view_func=views.new, methods=READ_WRITE)
    bp.add_url_rule(ENTRY, view_func=views.entry)
    bp.add_url_rule(f"{ENTRY}/edit", view_func=views.edit, methods=READ_WRITE)
    bp.add_url_rule(f"{ENTRY}/delete", view_func=views.delete, methods=READ_WRITE)
    return bp
