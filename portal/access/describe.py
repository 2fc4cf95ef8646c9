"""Plain-language descriptions of audit rows for 'Wie keek mee?'."""

from __future__ import annotations

from flask_babel import gettext as _

from portal.access.models import AuditEvent


def action_text(action: str) -> str:
    """What someone did, in the words of 'Wie keek mee?' (every action the log can hold)."""
    texts = {
        "family.create": _("maakte de gezinsruimte aan"),
        "family.view": _("bekeek de gezinsruimte"),
        "family.edit": _("veranderde de naam van het gezin"),
        "family.export": _("downloadde alle gegevens van het gezin"),
        "member.list": _("bekeek wie er meedoen"),
        "member.view": _("bekeek een gezinslid"),
        "member.add": _("voegde iemand toe"),
        "member.edit": _("veranderde de gegevens van een gezinslid"),
        "member.remove": _("haalde iemand uit het gezin"),
        "member.invite": _("stuurde een uitnodiging"),
        "member.join": _("ging meedoen na een uitnodiging"),
        "audit.view": _("bekeek wie er meekeek"),
        "grant.list": _("bekeek wie er te gast is"),
        "grant.view": _("bekeek de toegang van een gast"),
        "grant.create": _("nodigde een gast uit"),
        "grant.approve": _("gaf toestemming voor een gast"),
        "grant.deny": _("weigerde een gast"),
        "grant.renew": _("verlengde de toegang van een gast"),
        "grant.revoke": _("beëindigde de toegang van een gast"),
        "grant.accept": _("nam de uitnodiging als gast aan"),
        "grant.request": _("vroeg om toegang als gast"),
        "grant.request_renewal": _("vroeg om langer toegang"),
        "grant.withdraw": _("trok een vraag om toegang in"),
        "plan.view": _("bekeek het gezinsplan"),
        "plan.edit": _("veranderde het gezinsplan"),
        "plan.propose": _("legde het gezinsplan voor om mee in te stemmen"),
        "plan.signoff": _("stemde in met het gezinsplan"),
        "dossier.view": _("las in het dossier"),
        "dossier.edit": _("schreef in het dossier"),
        "dossier.change": _("veranderde een stuk in het dossier"),
        "conversation.list": _("bekeek de gesprekken"),
        "conversation.create": _("begon een gesprek"),
        "conversation.manage": _("veranderde wie er meedoet in een gesprek"),
        "message.view": _("las berichten"),
        "message.send": _("stuurde een bericht"),
        "message.change": _("veranderde of verwijderde een eigen bericht"),
        "file.download": _("downloadde een bestand"),
        "file.preview": _("bekeek een foto (voorbeeld)"),
        "live.subscribe": _("keek live mee in de gezinsruimte"),
        "file.purge": _("ruimde bestanden op die nooit zijn verstuurd"),
    }
    return texts.get(action, action)


def role_text(role: str) -> str:
    texts = {
        "parent_with_authority": _("ouder met gezag"),
        "parent": _("ouder of verzorger"),
        "young_person_12_15": _("jongere (12 tot 16)"),
        "young_person_16_17": _("jongere (16 of 17)"),
        "young_person_adult": _("jongvolwassene"),
        "young_person_under_12": _("kind"),
        "network": _("netwerk"),
        "guest": _("gast"),
        "former_guest": _("vroegere gast"),
        "system": _("het portaal zelf"),
        "none": _("geen toegang"),
        "anonymous": _("niet ingelogd"),
    }
    return texts.get(role, role)


def describe(event: AuditEvent) -> dict[str, str]:
    return {
        "action": action_text(event.action),
        "role": role_text(event.actor_role),
        "outcome": _("toegestaan") if event.outcome == "allowed" else _("geweigerd"),
    }
