"""The plan as a PDF, made by a real renderer (WeasyPrint) and opened again (pypdf): every part,
the flower, a goal's chart and the signatures are in it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from flask import Flask
from pypdf import PdfReader

from tests.family.test_plan_history import goal, world  # noqa: F401


def test_the_plan_pdf_holds_every_part(app: Flask, world: dict[str, Any]) -> None:  # noqa: F811
    fid = world["family"].id
    mama, papa, sanne, coach = (world[k] for k in ("mama", "papa", "sanne", "coach"))
    base = f"/families/{fid}/plan"
    mama.call("PUT", base, {"version": 1, "tomorrow": "Rustige ochtenden zonder ruzie"})
    created = goal(mama, fid, "Op tijd op school")
    for score in (3, 5, 7):
        response = mama.client.post(
            f"{base}/goals/{created['id']}/scores",
            data={"csrf_token": mama.csrf(), "score": str(score)},
        )
        assert response.status_code in (302, 303), response.status_code
    members = mama.get(f"/families/{fid}/members").get_json()["items"]
    sanne_member = next(m["id"] for m in members if m["display_name"] == "Sanne")
    agreement = mama.post(
        f"{base}/agreements",
        {"what": "Wekker om zeven uur zetten", "owner": f"member:{sanne_member}"},
    )
    assert agreement.status_code == 201, agreement.get_json()
    petal = mama.post(
        f"{base}/network", {"name": "Oma Truus", "relation": "oma", "kind": "informal"}
    )
    assert petal.status_code == 201, petal.get_json()
    safety = mama.get(f"{base}/safety").get_json()
    assert (
        mama.call(
            "PUT",
            f"{base}/safety",
            {"version": safety["version"], "signals": "Sanne slaapt slecht"},
        ).status_code
        == 200
    )
    number = mama.post(f"{base}/versions").get_json()["number"]
    for api in (mama, papa, sanne):  # (the coach reads only: not a signer)
        assert api.post(f"{base}/signoffs", {"version": number}).status_code == 201

    response = papa.client.get(f"/families/{fid}/plan.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    out = Path("test-output/pdf")
    out.mkdir(parents=True, exist_ok=True)
    (out / "gezinsplan.pdf").write_bytes(response.get_data())  # to look at
    reader = PdfReader(io.BytesIO(response.get_data()))
    assert len(reader.pages) >= 2
    text = " ".join(page.extract_text() for page in reader.pages)
    for expected in (
        "Gezinsplan",
        "Rustige ochtenden zonder ruzie",
        "Oma Truus",
        "Op tijd op school",
        "Wekker om zeven uur zetten",
        "Sanne slaapt slecht",
        "Vastgesteld",
        "Getekend op",
        "Coach",
    ):
        assert expected in text, expected
    # Another family's parent gets no PDF.
    assert world["coach"].client.get("/families/999/plan.pdf").status_code == 404
