"""Sign-up, sign-in, reset and two-factor forms. Labels and messages are translatable."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Optional, ValidationError

from portal.auth.passwords import MIN_LENGTH
from portal.core.forms import Form as FlaskForm
from portal.core.textlength import Length


def _password_strength(_form: FlaskForm, field: PasswordField) -> None:
    value = field.data or ""
    if len(value) < MIN_LENGTH:
        raise ValidationError(_l("Kies een wachtwoord van minstens %(n)s tekens.", n=MIN_LENGTH))
    if len(value) > 200:
        raise ValidationError(_l("Kies een wachtwoord van hoogstens 200 tekens."))


REQUIRED = _l("Vul dit veld in.")
EMAIL_INVALID = _l("Dit lijkt geen geldig e-mailadres.")


class SignUpForm(FlaskForm):
    display_name = StringField(_l("Je naam"), validators=[DataRequired(REQUIRED), Length(max=100)])
    email = EmailField(
        _l("E-mailadres"),
        validators=[DataRequired(REQUIRED), Email(EMAIL_INVALID), Length(max=254)],
    )
    password = PasswordField(
        _l("Wachtwoord"), validators=[DataRequired(REQUIRED), _password_strength]
    )
    password_again = PasswordField(
        _l("Wachtwoord nog een keer"),
        validators=[
            DataRequired(REQUIRED),
            EqualTo("password", _l("De wachtwoorden zijn niet gelijk.")),
        ],
    )


PROFESSION_CHOICES = [
    SelectChoice("cjg_coach", _l("CJG-coach of gezinscoach")),
    SelectChoice("jeugdverpleegkundige", _l("Jeugdverpleegkundige")),
    SelectChoice("huisarts", _l("Huisarts")),
    SelectChoice("poh_jeugd", _l("POH-jeugd")),
    SelectChoice("gedragswetenschapper", _l("Gedragswetenschapper")),
    SelectChoice("other", _l("Andere professional")),
]


class ProfessionalSignUpForm(SignUpForm):
    profession = SelectField(
        _l("Beroep"), choices=PROFESSION_CHOICES, validators=[DataRequired(REQUIRED)]
    )
    organisation = StringField(
        _l("Organisatie"), validators=[DataRequired(REQUIRED), Length(max=120)]
    )
    register_number = StringField(
        _l("BIG- of SKJ-registratienummer (als je dat hebt)"),
        validators=[Optional(), Length(max=40)],
    )


class SignInForm(FlaskForm):
    email = EmailField(_l("E-mailadres"), validators=[DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField(_l("Wachtwoord"), validators=[DataRequired(REQUIRED), Length(max=200)])


class CodeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(REQUIRED), Length(max=20)])


class ResetRequestForm(FlaskForm):
    email = EmailField(
        _l("E-mailadres"),
        validators=[DataRequired(REQUIRED), Email(EMAIL_INVALID), Length(max=254)],
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Nieuw wachtwoord"), validators=[DataRequired(REQUIRED), _password_strength]
    )
    password_again = PasswordField(
        _l("Nieuw wachtwoord nog een keer"),
        validators=[
            DataRequired(REQUIRED),
            EqualTo("password", _l("De wachtwoorden zijn niet gelijk.")),
        ],
    )


class ApiTokenForm(FlaskForm):
    name = StringField(
        _l("Waar gebruik je het token voor?"),
        description=_l("Bijvoorbeeld de naam van de app of het script. Alleen jij ziet dit."),
        validators=[DataRequired(REQUIRED), Length(max=80)],
    )
    days = SelectField(
        _l("Hoe lang werkt het token?"),
        choices=[
            SelectChoice(30, _l("30 dagen")),
            SelectChoice(90, _l("90 dagen")),
            SelectChoice(365, _l("1 jaar")),
        ],
        coerce=int,
        default=90,
    )
