"""Search only what you may see; replies quote what they answer; family members may keep their
reading to themselves, professionals may not."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.api.client import is_problem
from tests.messaging.test_messaging import api_for, start, world  # noqa: F401


def say(api: Any, fid: int, cid: int, key: str, body: str, **extra: Any) -> dict[str, Any]:
    response = api.post(
        f"/families/{fid}/conversations/{cid}/messages", {"client_key": key, "body": body, **extra}
    )
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def test_search_finds_only_my_conversations_and_pages(app: Flask, world: dict[str, Any]) -> None:  # noqa: F811
    family, mother, father, teen = world["family"], world["mother"], world["father"], world["teen"]
    mama, papa, sanne = api_for(app, mother), api_for(app, father), api_for(app, teen)
    fid = family.id
    school = start(mama, family, "School", [father])["id"]
    secret = start(mama, family, "Verjaardag Sanne", [father])["id"]  # Sanne is not in it
    with_sanne = start(mama, family, "Vakantie", [teen])["id"]
    for i in range(3):
        say(mama, fid, school, f"srch-key-{i:02d}", f"Rapport nummer {i} komt vrijdag")
    say(papa, fid, secret, "srch-key-10", "Cadeau voor het rapport")
    say(mama, fid, with_sanne, "srch-key-20", "100% zeker naar zee_strand")
    gone = say(mama, fid, school, "srch-key-30", "rapport dat ik weghaal")
    assert (
        mama.delete(f"/families/{fid}/conversations/{school}/messages/{gone['seq']}").status_code
        == 200
    )

    found = papa.get(f"/families/{fid}/messages?q=RAPPORT&limit=2").get_json()
    assert [m["body"] for m in found["items"]] == [
        "Cadeau voor het rapport",
        "Rapport nummer 2 komt vrijdag",
    ]
    rest = papa.get(f"/families/{fid}/messages?q=rapport&limit=2&cursor={found['next_cursor']}")
    assert [m["body"] for m in rest.get_json()["items"]] == [
        "Rapport nummer 1 komt vrijdag",
        "Rapport nummer 0 komt vrijdag",
    ]
    assert rest.get_json()["next_cursor"] is None
    # Sanne finds nothing from conversations she is not in, and %/_ are plain characters.
    assert sanne.get(f"/families/{fid}/messages?q=rapport").get_json()["items"] == []
    assert [
        m["topic"] for m in sanne.get(f"/families/{fid}/messages?q=0%25").get_json()["items"]
    ] == ["Vakantie"]
    assert (
        sanne.get(f"/families/{fid}/messages?q=e_s").get_json()["items"][0]["topic"] == "Vakantie"
    )
    assert sanne.get(f"/families/{fid}/messages?q=a_s").get_json()["items"] == []
    # A topic matches too.
    assert papa.get(f"/families/{fid}/messages?q=verjaardag").get_json()["items"]
    assert is_problem(papa.get(f"/families/{fid}/messages?q=r"), 400)
    page = papa.client.get(f"/families/{fid}/messages/search?q=cadeau").get_data(as_text=True)
    assert "Cadeau voor het rapport" in page and "Verjaardag Sanne" in page
    empty = papa.client.get(f"/families/{fid}/messages/search?q=olifant").get_data(as_text=True)
    assert "Niets gevonden voor" in empty


def test_reply_quotes_the_message_it_answers(app: Flask, world: dict[str, Any]) -> None:  # noqa: F811
    family, mother, father = world["family"], world["mother"], world["father"]
    mama, papa = api_for(app, mother), api_for(app, father)
    fid = family.id
    cid = start(mama, family, "School", [father])["id"]
    first = say(mama, fid, cid, "rply-key-01", "Wie haalt Sanne op donderdag?")
    answer = say(papa, fid, cid, "rply-key-02", "Ik doe het", reply_to_seq=first["seq"])
    assert answer["reply_to"] == {
        "seq": 1,
        "author_name": "Mama",
        "excerpt": "Wie haalt Sanne op donderdag?",
        "deleted": False,
    }
    bad = papa.post(
        f"/families/{fid}/conversations/{cid}/messages",
        {"client_key": "rply-key-03", "body": "?", "reply_to_seq": 99},
    )
    assert is_problem(bad, 422)
    page = mama.client.get(f"/families/{fid}/messages/{cid}").get_data(as_text=True)
    assert '<blockquote class="quote"><a href="#m1">Mama</a>: Wie haalt Sanne op donderdag?' in page
    replying = mama.client.get(f"/families/{fid}/messages/{cid}?reply=2").get_data(as_text=True)
    assert 'name="reply_to_seq" type="hidden" value="2"' in replying
    assert "Je reageert op" in replying and ">Ik doe het</span>" in replying


def test_family_member_may_hide_reads_professional_may_not(
    app: Flask,
    world: dict[str, Any],  # noqa: F811
) -> None:
    family, mother, father, coach = (
        world["family"],
        world["mother"],
        world["father"],
        world["coach"],
    )
    mama, papa, pro = api_for(app, mother), api_for(app, father), api_for(app, coach)
    fid = family.id
    cid = start(mama, family, "Afspraak", [father, coach])["id"]
    say(mama, fid, cid, "rcpt-key-01", "Komt dinsdag uit?")
    assert (
        papa.patch("/me", {"send_read_receipts": False}).get_json()["send_read_receipts"] is False
    )
    for api in (papa, pro):
        assert api.post(f"/families/{fid}/conversations/{cid}/read", {"seq": 1}).status_code == 200
    reads = {
        p["name"]: p["last_read_seq"]
        for p in mama.get(f"/families/{fid}/conversations/{cid}").get_json()["participants"]
    }
    assert reads["Papa"] is None and reads["Coach"] == 1
    # Papa still sees his own place.
    mine = papa.get(f"/families/{fid}/conversations/{cid}").get_json()["participants"]
    assert next(p for p in mine if p["name"] == "Papa")["last_read_seq"] == 1
    page = mama.client.get(f"/families/{fid}/messages/{cid}").get_data(as_text=True)
    assert "Gelezen door Coach" in page and "Papa," not in page.split("Gelezen door")[1][:40]
    refused = pro.patch("/me", {"send_read_receipts": False})
    assert is_problem(refused, 422)
    assert is_problem(papa.patch("/me", {"send_read_receipts": "nee"}), 422)
    assert papa.patch("/me", {"send_read_receipts": True}).status_code == 200
