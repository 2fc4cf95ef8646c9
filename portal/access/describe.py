"""Plain-language descriptions of audit rows for 'Wie keek mee?'."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext

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
        "member.leave": _("stopte in de gezinsruimte"),
        "member.edit_self": _("veranderde de eigen gegevens"),
        "member.contact": _("bekeek adres en telefoon van een gezinslid"),
        "member.birth_date": _("veranderde een geboortedatum"),
        "member.authority": _("veranderde het gezag"),
        "member.authority.grant": _("legde gezag vast na een uitspraak van de rechter"),
        "member.authority.end": _("beëindigde gezag na een uitspraak van de rechter"),
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
        "plan.excuse": _("gaf aan dat een jongere niet meedoet met ondertekenen"),
        "dossier.view": _("las in het dossier"),
        "dossier.edit": _("schreef in het dossier"),
        "dossier.change": _("veranderde een stuk in het dossier"),
        "conversation.list": _("bekeek de gesprekken"),
        "conversation.create": _("begon een gesprek"),
        "conversation.manage": _("veranderde wie er meedoet in een gesprek"),
        "conversation.leave": _("ging uit een gesprek"),
        "conversation.rename": _("gaf een gesprek een ander onderwerp"),
        "message.view": _("las berichten"),
        "message.send": _("stuurde een bericht"),
        "message.change": _("veranderde of verwijderde een eigen bericht"),
        "file.download": _("downloadde een bestand"),
        "file.preview": _("bekeek een foto (voorbeeld)"),
        "live.subscribe": _("keek live mee in de gezinsruimte"),
        "file.purge": _("ruimde bestanden op die nooit zijn verstuurd"),
    }
    return texts.get(action, action)


def attempt_text(action: str) -> str:
    """What someone tried and was refused: "las in het dossier – geweigerd" read as if they
    had read it. A refused row says what they wanted to do."""
    texts = {
        "family.create": _("wilde een gezinsruimte aanmaken"),
        "family.view": _("wilde de gezinsruimte bekijken"),
        "family.edit": _("wilde de naam van het gezin veranderen"),
        "family.export": _("wilde alle gegevens van het gezin downloaden"),
        "member.list": _("wilde bekijken wie er meedoen"),
        "member.view": _("wilde een gezinslid bekijken"),
        "member.add": _("wilde iemand toevoegen"),
        "member.edit": _("wilde de gegevens van een gezinslid veranderen"),
        "member.remove": _("wilde iemand uit het gezin halen"),
        "member.invite": _("wilde een uitnodiging sturen"),
        "member.join": _("wilde meedoen na een uitnodiging"),
        "member.leave": _("wilde stoppen in de gezinsruimte"),
        "member.edit_self": _("wilde eigen gegevens veranderen"),
        "member.contact": _("wilde adres en telefoon van een gezinslid bekijken"),
        "member.birth_date": _("wilde een geboortedatum veranderen"),
        "member.authority": _("wilde het gezag veranderen"),
        "audit.view": _("wilde bekijken wie er meekeek"),
        "grant.list": _("wilde bekijken wie er te gast is"),
        "grant.view": _("wilde de toegang van een gast bekijken"),
        "grant.create": _("wilde een gast uitnodigen"),
        "grant.approve": _("wilde toestemming geven voor een gast"),
        "grant.deny": _("wilde een gast weigeren"),
        "grant.renew": _("wilde de toegang van een gast verlengen"),
        "grant.revoke": _("wilde de toegang van een gast beëindigen"),
        "grant.accept": _("wilde de uitnodiging als gast aannemen"),
        "grant.request": _("wilde toegang vragen als gast"),
        "grant.request_renewal": _("wilde langer toegang vragen"),
        "grant.withdraw": _("wilde een vraag om toegang intrekken"),
        "plan.view": _("wilde het gezinsplan bekijken"),
        "plan.edit": _("wilde het gezinsplan veranderen"),
        "plan.propose": _("wilde het gezinsplan voorleggen om mee in te stemmen"),
        "plan.signoff": _("wilde instemmen met het gezinsplan"),
        "plan.excuse": _("wilde aangeven dat een jongere niet meedoet met ondertekenen"),
        "dossier.view": _("wilde in het dossier lezen"),
        "dossier.edit": _("wilde in het dossier schrijven"),
        "dossier.change": _("wilde een stuk in het dossier veranderen"),
        "conversation.list": _("wilde de gesprekken bekijken"),
        "conversation.create": _("wilde een gesprek beginnen"),
        "conversation.manage": _("wilde veranderen wie er meedoet in een gesprek"),
        "conversation.leave": _("wilde uit een gesprek gaan"),
        "conversation.rename": _("wilde een gesprek een ander onderwerp geven"),
        "message.view": _("wilde berichten lezen"),
        "message.send": _("wilde een bericht sturen"),
        "message.change": _("wilde een bericht veranderen of verwijderen"),
        "file.download": _("wilde een bestand downloaden"),
        "file.preview": _("wilde een foto bekijken (voorbeeld)"),
        "live.subscribe": _("wilde live meekijken in de gezinsruimte"),
        "file.purge": _("wilde bestanden opruimen die nooit zijn verstuurd"),
    }
    return texts.get(action, action)


def role_text(role: str) -> str:
    texts = {
        "parent_with_authority": _("ouder met gezag"),
        "parent": _("ouder zonder gezag"),
        "partner": _("partner of stiefouder"),
        "operator": _("beheerder van het portaal"),
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


def outcome_text(outcome: str, count: int = 1) -> str:
    """The outcome, with how often when a row (or a page's line) stands for several refusals:
    a socket that was refused the same again and again (portal/access/repeats.py)."""
    if outcome == "allowed":
        return _("toegestaan")
    if count == 1:
        return _("geweigerd")
    return ngettext("%(num)s keer geweigerd", "%(num)s keer geweigerd", count)


def describe(event: AuditEvent, count: int | None = None) -> dict[str, str]:
    """The row in plain words; `count`: how many accesses it stands for, if not its own."""
    return {
        "action": action_text(event.action)
        if event.outcome == "allowed"
        else attempt_text(event.action),
        "role": role_text(event.actor_role),
        "outcome": outcome_text(event.outcome, event.count if count is None else count),
    }
