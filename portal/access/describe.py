"""Plain-language descriptions of audit rows for 'Wie keek mee?'."""

from __future__ import annotations

from flask_babel import gettext as _

from portal.access.models import AuditEvent


def action_text(action: str) -> str:
    texts = {
        "family.create": _("maakte de gezinsruimte aan"),
        "family.view": _("bekeek de gezinsruimte"),
        "family.edit": _("veranderde de naam van het gezin"),
        "member.list": _("bekeek wie er meedoen"),
        "member.view": _("bekeek een gezinslid"),
        "member.add": _("voegde iemand toe"),
        "member.edit": _("veranderde de gegevens van een gezinslid"),
        "member.remove": _("haalde iemand uit het gezin"),
        "member.invite": _("stuurde een uitnodiging"),
        "member.join": _("ging meedoen na een uitnodiging"),
        "audit.view": _("bekeek wie er meekeek"),
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
