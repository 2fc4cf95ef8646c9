"""The gezinsplan as a tidy PDF (all parts, the flower, goal charts, signatures), rendered from
HTML by WeasyPrint, so the printed plan and the page come from the same templates."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template

from portal.family import plan_signoff
from portal.family.models import Family


def render(family: Family, context: dict[str, Any]) -> bytes:
    from weasyprint import HTML  # imported here: a heavy import only the PDF needs

    from portal.family.plan_version_views import why_text

    status = plan_signoff.status(family)
    shown = status.current or status.agreed
    html = render_template(
        "family/plan_pdf.html",
        plan_status=status,
        shown_version=shown,
        signers=plan_signoff.signers(shown, family) if shown is not None else [],
        why_text=why_text(),
        **context,
    )
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def download(family: Family, context: dict[str, Any], day: str) -> Response:
    response = Response(render(family, context), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="gezinsplan-{day}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
