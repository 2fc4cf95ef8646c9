"""Forms for inviting guests and deciding about their access."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, EmailField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Optional

from portal.auth.forms import EMAIL_INVALID, REQUIRED
from portal.core.forms import Form
from portal.core.textlength import Length

LEVEL_CHOICES = [
    SelectChoice("", _l("Geen toegang")),
    SelectChoice("read", _l("Lezen (meekijken)")),
    SelectChoice("write", _l("Meeschrijven")),
]


def part_labels() -> dict[str, str]:
    return {
        "plan": str(_l("Gezinsplan")),
        "dossier": str(_l("Dossier")),
        "messages": str(_l("Berichten")),
        "modules": str(_l("Modules")),
        "documents": str(_l("Documenten")),
    }


class PartsMixin:
    part_plan = SelectField(_l("Gezinsplan"), choices=LEVEL_CHOICES, default="")
    part_dossier = SelectField(_l("Dossier"), choices=LEVEL_CHOICES, default="")
    part_messages = SelectField(_l("Berichten"), choices=LEVEL_CHOICES, default="")
    part_modules = SelectField(_l("Modules"), choices=LEVEL_CHOICES, default="")
    part_documents = SelectField(_l("Documenten"), choices=LEVEL_CHOICES, default="")

    def parts(self) -> dict[str, str]:
        chosen = {}
        for part in ("plan", "dossier", "messages", "modules", "documents"):
            level = getattr(self, f"part_{part}").data
            if level:
                chosen[part] = level
        return chosen


class GuestInviteForm(PartsMixin, Form):
    email = EmailField(
        _l("E-mailadres van de professional"),
        validators=[DataRequired(REQUIRED), Email(EMAIL_INVALID), Length(max=254)],
    )
    purpose = TextAreaField(
        _l("Waarvoor? (in gewone woorden)"),
        validators=[DataRequired(REQUIRED), Length(max=500)],
        description=_l("Bijvoorbeeld: Marieke helpt ons met de ruzies over het huiswerk."),
    )
    subject_member_id = SelectField(_l("Over wie gaat het?"), choices=[], default="")
    valid_from = DateField(_l("Vanaf (optioneel)"), validators=[Optional()])
    expires_on = DateField(
        _l("Tot en met"),
        validators=[Optional()],
        description=_l("Standaard 3 maanden, hoogstens 12 maanden."),
    )


class ApproveForm(PartsMixin, Form):
    expires_on = DateField(_l("Tot en met"), validators=[Optional()])
    version = HiddenField()


class RenewForm(Form):
    expires_on = DateField(_l("Nieuwe einddatum"), validators=[DataRequired(REQUIRED)])
    version = HiddenField()


class AccessRequestForm(PartsMixin, Form):
    code = StringField(
        _l("Gezinscode"),
        validators=[Optional(), Length(max=20)],
        description=_l("Het gezin vindt de code bij 'Toegang'. Bijvoorbeeld: K7MQ-9XPA."),
    )
    parent_email = EmailField(
        _l("Of: het e-mailadres van een ouder"),
        validators=[Optional(), Email(EMAIL_INVALID), Length(max=254)],
        description=_l("Weet je de code niet? Dan krijgt de ouder je vraag, als het adres klopt."),
    )
    purpose = TextAreaField(
        _l("Waarvoor vraag je toegang?"), validators=[DataRequired(REQUIRED), Length(max=500)]
    )
    expires_on = DateField(
        _l("Tot en met"),
        validators=[Optional()],
        description=_l("Standaard 3 maanden, hoogstens 12 maanden."),
    )
