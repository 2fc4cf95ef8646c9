"""Forms for the family space."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.auth.forms import EMAIL_INVALID, REQUIRED
from portal.core.forms import Form as FlaskForm
from portal.core.textlength import Length
from portal.family.plan_parts import EvaluationData, PetalData, SafetyData
from portal.family.plan_services import GoalData
from portal.family.services import MemberData, OwnDetails


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
    SelectChoice("parent", _l("Ouder")),
    SelectChoice("partner", _l("Partner of stiefouder")),
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
        _l("Ouder met gezag"),
        description=_l(
            "Ouders met gezag beslissen mee over de gegevens van kinderen onder de 16. "
            "Een ouder zonder gezag kan het plan en de afspraken over het kind wel lezen."
        ),
    )
    # Gezag per child: which children a new parent holds it over, who holds it over a new child.
    # Only when someone is added; afterwards only the operator changes it.
    authority_children = SelectMultipleField(
        _l("Over welke kinderen heeft deze ouder gezag?"),
        coerce=int,
        choices=[],
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    authority_parents = SelectMultipleField(
        _l("Wie heeft gezag over dit kind?"),
        coerce=int,
        choices=[],
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        description=_l("Hoogstens twee ouders."),
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

    def member_data(self, with_authority: bool = False) -> MemberData:
        """What the services need, from what was typed (pages and API share this). With
        `with_authority` the chosen children or parents go along (a page adding someone)."""
        ids: list[int] | None = None
        if with_authority and self.role.data == "parent" and self.has_authority.data:
            ids = list(self.authority_children.data or [])
        elif with_authority and self.role.data == "young_person":
            ids = list(self.authority_parents.data or [])
        return MemberData(
            authority_ids=ids,
            role=self.role.data or "",
            display_name=(self.display_name.data or "").strip(),
            birth_date=self.birth_date.data,
            has_authority=bool(self.has_authority.data),
            household=(self.household.data or "").strip() or None,
            relation=(self.relation.data or "").strip() or None,
            email=(self.email.data or "").strip() or None,
            invite=bool(self.invite.data),
        )


class OwnDetailsForm(FlaskForm):
    """What each person changes about themself, and whether the other parents see it."""

    display_name = StringField(_l("Naam"), validators=[DataRequired(REQUIRED), Length(max=100)])
    household = StringField(
        _l("Huishouden (optioneel)"),
        validators=[Optional(), Length(max=100)],
        description=_l("Bijvoorbeeld: Huis van papa."),
    )
    address = StringField(_l("Adres (optioneel)"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Telefoonnummer (optioneel)"), validators=[Optional(), Length(max=40)])
    contact_private = BooleanField(
        _l("Houd mijn adres en telefoonnummer verborgen voor de andere ouder"),
        description=_l(
            "Dan zien de andere ouders en hun partners ze niet. De kinderen zien ze wel."
        ),
    )
    version = HiddenField()

    def own_details(self) -> OwnDetails:
        return OwnDetails(
            display_name=(self.display_name.data or "").strip(),
            household=(self.household.data or "").strip() or None,
            address=(self.address.data or "").strip() or None,
            phone=(self.phone.data or "").strip() or None,
            contact_private=bool(self.contact_private.data),
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


GOAL_OWNER_CHOICES = [
    SelectChoice("family", _l("Het hele gezin")),
    SelectChoice("parent", _l("Ouder")),
    SelectChoice("young_person", _l("Jongere")),
]
GOAL_PHASE_CHOICES = [
    SelectChoice("not_started", _l("Nog niet begonnen")),
    SelectChoice("in_progress", _l("Bezig")),
    SelectChoice("achieved", _l("Bereikt")),
    SelectChoice("adjusted", _l("Bijgesteld")),
]


class GoalForm(FlaskForm):
    title = StringField(
        _l("Doel"),
        validators=[DataRequired(REQUIRED), Length(max=200)],
        description=_l(
            "Meetbaar en in jullie eigen woorden. Bijvoorbeeld: "
            "Sanne is drie ochtenden per week op tijd op school."
        ),
    )
    owner = SelectField(_l("Van wie is dit doel?"), choices=GOAL_OWNER_CHOICES, default="family")
    phase = SelectField(_l("Fase"), choices=GOAL_PHASE_CHOICES, default="not_started")
    description = TextAreaField(_l("Toelichting (optioneel)"), validators=[Length(max=5000)])
    version = HiddenField()

    def goal_data(self) -> GoalData:
        """What the plan services need, from what was typed (pages and API share this)."""
        return GoalData(
            self.title.data or "",
            self.description.data or "",
            self.owner.data or "family",
            self.phase.data or "not_started",
        )


class ScoreForm(FlaskForm):
    score = IntegerField(
        _l("Score (0 tot en met 10)"),
        validators=[
            InputRequired(REQUIRED),
            NumberRange(0, 10, _l("Kies een getal van 0 tot en met 10.")),
        ],
        description=_l("0 = het gaat helemaal niet, 10 = het doel is bereikt"),
    )
    scored_on = DateField(_l("Datum"), validators=[Optional()])


class AgreementForm(FlaskForm):
    what = StringField(
        _l("Wat spreken we af?"), validators=[DataRequired(REQUIRED), Length(max=300)]
    )
    owner = SelectField(_l("Wie doet het?"), choices=[], validators=[DataRequired(REQUIRED)])
    due_on = DateField(_l("Wanneer klaar?"), validators=[Optional()])
    goal_id = SelectField(_l("Bij welk doel? (optioneel)"), choices=[], default="")


# --- de bloem, veiligheid, evaluatie --------------------------------------------------------------

PETAL_KIND_CHOICES = [
    SelectChoice("informal", _l("Iemand uit ons eigen netwerk (familie, vrienden, buren)")),
    SelectChoice("professional", _l("Een hulpverlener of organisatie")),
]
NO_CHOICE = _l("Kies uit de lijst.")


class PetalForm(FlaskForm):
    """A petal of de bloem: who helps, how they are related, how to reach them."""

    name = StringField(
        _l("Naam"),
        validators=[DataRequired(REQUIRED), Length(max=100)],
        description=_l("Bijvoorbeeld: Oma Els, Juf Anja of het wijkteam."),
    )
    relation = StringField(
        _l("Wie is dit voor jullie?"),
        validators=[Length(max=100)],
        description=_l("Bijvoorbeeld: oma, buurvrouw, school, huisarts."),
    )
    contact = StringField(
        _l("Hoe bereik je deze persoon?"),
        validators=[Length(max=200)],
        description=_l("Bijvoorbeeld: een telefoonnummer, e-mailadres of 'via school'."),
    )
    kind = SelectField(
        _l("Soort"), choices=PETAL_KIND_CHOICES, default="informal", validate_choice=False
    )
    member_id = SelectField(
        _l("Doet deze persoon mee in de gezinsruimte? (optioneel)"),
        choices=[],
        default="",
        validate_choice=False,
    )
    guest_user_id = SelectField(
        _l("Is dit een gast van jullie gezin? (optioneel)"),
        choices=[],
        default="",
        validate_choice=False,
        description=_l(
            "Kies de gast als dit dezelfde persoon is. Dan staat die maar één keer in de bloem, "
            "met de laatste dag van de toegang."
        ),
    )
    version = HiddenField()

    def petal_data(self) -> PetalData:
        return PetalData(
            self.name.data or "",
            self.relation.data or "",
            self.contact.data or "",
            self.kind.data or "",
            _chosen_id(self.member_id.data),
            _chosen_id(self.guest_user_id.data),
        )


def _chosen_id(raw: str | None) -> int | None:
    """An id chosen in a select: None for none, -1 for something that is no id (the service
    then says it is not one of the family's)."""
    text = raw or ""
    return int(text) if text.isdecimal() and len(text) < 19 else (-1 if text else None)


class SafetyForm(FlaskForm):
    """The safety plan, in three questions."""

    signals = TextAreaField(
        _l("Waaraan merken we dat het niet goed gaat?"),
        validators=[Length(max=5000)],
        description=_l("De signalen. Bijvoorbeeld: Daan slaapt slecht en wordt snel boos."),
    )
    actions = TextAreaField(
        _l("Wat doen we dan?"),
        validators=[Length(max=5000)],
        description=_l("Wie doet wat, en wat helpt om rustig te worden."),
    )
    contacts = TextAreaField(
        _l("Wie bellen we?"),
        validators=[Length(max=5000)],
        description=_l("Namen en telefoonnummers. Bij direct gevaar: bel 112."),
    )
    version = HiddenField()

    def safety_data(self) -> SafetyData:
        return SafetyData(
            self.signals.data or "", self.actions.data or "", self.contacts.data or ""
        )


EVALUATION_KIND_CHOICES = [
    SelectChoice("evaluation", _l("Evaluatie van het plan")),
    SelectChoice("network_meeting", _l("Netwerkoverleg")),
]


class EvaluationForm(FlaskForm):
    kind = SelectField(
        _l("Wat voor moment?"),
        choices=EVALUATION_KIND_CHOICES,
        default="evaluation",
        validate_choice=False,
    )
    title = StringField(
        _l("Titel"),
        validators=[DataRequired(REQUIRED), Length(max=200)],
        description=_l("Bijvoorbeeld: Evaluatie na drie maanden."),
    )
    held_on = DateField(
        _l("Datum"),
        validators=[InputRequired(REQUIRED)],
        description=_l("Bijvoorbeeld: 15-03-2027."),
    )
    start_time = StringField(
        _l("Hoe laat? (optioneel)"),
        validators=[Optional(), Length(max=5)],
        description=_l("Bijvoorbeeld: 14:30. Leeg laten als het de hele dag is."),
    )
    participants = StringField(
        _l("Wie doen er mee?"),
        validators=[Length(max=1000)],
        description=_l("Bijvoorbeeld: mama, papa, Daan, oma Els, coach Sam."),
    )
    went_well = TextAreaField(_l("Wat ging goed?"), validators=[Length(max=5000)])
    changes = TextAreaField(_l("Wat gaan we anders doen?"), validators=[Length(max=5000)])
    next_steps = TextAreaField(_l("Volgende stappen"), validators=[Length(max=5000)])
    version = HiddenField()

    def evaluation_data(self) -> EvaluationData:
        return EvaluationData(
            self.title.data or "",
            self.held_on.data,
            self.kind.data or "",
            (self.start_time.data or "").strip(),
            self.participants.data or "",
            self.went_well.data or "",
            self.changes.data or "",
            self.next_steps.data or "",
        )
