"""The professional's dashboard: the families that invited them (none until grants exist)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

bp = Blueprint("professional", __name__)


@bp.route("/professional")
@login_required
def dashboard() -> Any:
    if not current_user.is_professional:
        return redirect(url_for("family.index"))
    return render_template("professional/dashboard.html")
