"""Forms for the family space."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from portal.auth.forms import EMAIL_INVALID, REQUIRED
from portal.core.forms import Form as FlaskForm
from portal.family.services import MemberData


class FamilyForm(FlaskForm):
    name = StringField(
        _l("Naam van het gezin"),
        validators=[DataRequired(REQUIRED), Length(max=100)],
        description=_l(
            "Bijvoorbeeld: Gezin De Vries. Alleen jullie en wie jullie uitnodigen zien dit."
        ),
    )
    my_name = StringField(
        _l("Hoe heet jij in dit gezin?"),
        validators=[Optional(), Length(max=100)],
        description=_l("Bijvoorbeeld: Mama, Papa of je voornaam."),
    )
    household = StringField(
        _l("Jouw huishouden (optioneel)"),
        validators=[Optional(), Length(max=100)],
        description=_l("Handig als ouders apart wonen. Bijvoorbeeld: Huis van mama."),
    )


class RenameFamilyForm(FlaskForm):
    name = StringField(
        _l("Naam van het gezin"), validators=[DataRequired(REQUIRED), Length(max=100)]
    )
    version = HiddenField()


ROLE_CHOICES = [
    SelectChoice("parent", _l("Ouder of verzorger")),
    SelectChoice("young_person", _l("Kind of jongere")),
    SelectChoice("network", _l("Iemand uit ons netwerk (opa, oma, buurvrouw, mentor)")),
]


class MemberForm(FlaskForm):
    role = SelectField(_l("Wie is het?"), choices=ROLE_CHOICES, validators=[DataRequired(REQUIRED)])
    display_name = StringField(_l("Naam"), validators=[DataRequired(REQUIRED), Length(max=100)])
    birth_date = DateField(
        _l("Geboortedatum"),
        validators=[Optional()],
        description=_l("Nodig voor kinderen en jongeren: hun rechten groeien met hun leeftijd."),
    )
    has_authority = BooleanField(
        _l("Heeft gezag over de kinderen"),
        description=_l("Ouders met gezag beslissen mee over de gegevens van kinderen onder de 16."),
    )
    household = StringField(
        _l("Huishouden (optioneel)"),
        validators=[Optional(), Length(max=100)],
        description=_l("Bijvoorbeeld: Huis van papa. Ook ouders die apart wonen doen mee."),
    )
    relation = StringField(
        _l("Relatie (optioneel)"),
        validators=[Optional(), Length(max=100)],
        description=_l("Bijvoorbeeld: oma, buurvrouw, JIM (jouw ingebrachte mentor)."),
    )
    email = EmailField(
        _l("E-mailadres (optioneel)"),
        validators=[Optional(), Email(EMAIL_INVALID), Length(max=254)],
    )
    invite = BooleanField(
        _l("Stuur een uitnodiging om zelf in te loggen"),
        description=_l("Kan voor volwassenen en voor jongeren vanaf 12 jaar."),
    )
    version = HiddenField()

    def member_data(self) -> MemberData:
        """What the services need, from what was typed (pages and API share this)."""
        return MemberData(
            role=self.role.data or "",
            display_name=(self.display_name.data or "").strip(),
            birth_date=self.birth_date.data,
            has_authority=bool(self.has_authority.data),
            household=(self.household.data or "").strip() or None,
            relation=(self.relation.data or "").strip() or None,
            email=(self.email.data or "").strip() or None,
            invite=bool(self.invite.data),
        )


class ConfirmForm(FlaskForm):
    """An empty form: a POST with a CSRF token, for confirmations."""

    version = HiddenField()


class PlanQuestionsForm(FlaskForm):
    """'Onze vragen': the five Wraparound questions in the family's own words."""

    tomorrow = TextAreaField(_l("Wat wilt u morgen veranderen?"), validators=[Length(max=5000)])
    must_change = TextAreaField(_l("Wat moet er veranderen?"), validators=[Length(max=5000)])
    approach = TextAreaField(_l("Hoe gaat u dat aanpakken?"), validators=[Length(max=5000)])
    help = TextAreaField(_l("Hoe kan ik u daarbij helpen?"), validators=[Length(max=5000)])
    who_else = TextAreaField(_l("Wie hebben we nog meer nodig?"), validators=[Length(max=5000)])
    version = HiddenField()


class DossierEntryForm(FlaskForm):
    title = StringField(_l("Titel"), validators=[DataRequired(REQUIRED), Length(max=200)])
    body = TextAreaField(
        _l("Tekst"),
        validators=[DataRequired(REQUIRED), Length(max=20000)],
        description=_l("Je kunt **vet**, *schuin* en lijstjes met - gebruiken."),
    )
