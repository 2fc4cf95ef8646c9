"""The form for writing or changing a dossier entry, and the words for who may read it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired

from portal.auth.forms import REQUIRED
from portal.core.forms import Form as FlaskForm
from portal.core.textlength import Length


def shown_visibility_labels() -> dict[str, str]:
    """The visibility of an entry as its readers see it (whoever wrote it)."""
    return {
        **visibility_labels(),
        "no_parents": _l("Niet voor de ouders (wel voor wie het schreef)"),
    }


def visibility_labels() -> dict[str, str]:
    return {
        "all": _l("Iedereen die het dossier mag zien (ook gasten)"),
        "family": _l("Alleen het gezin"),
        "parents": _l("Alleen de ouders"),
        "no_parents": _l("Iedereen behalve mijn ouders"),
        # The same rule for a parent who writes: everyone with dossier access but the other
        # parents (and their partners); the author always reads their own entry.
        "no_other_parents": _l("Iedereen behalve de andere ouder"),
        "me": _l("Alleen ik"),
    }


class DossierEntryForm(FlaskForm):
    title = StringField(_l("Titel"), validators=[DataRequired(REQUIRED), Length(max=200)])
    body = TextAreaField(
        _l("Tekst"),
        validators=[DataRequired(REQUIRED), Length(max=20000)],
        description=_l("Je kunt **vet**, *schuin* en lijstjes met - gebruiken."),
    )
    visibility = SelectField(_l("Wie mag dit lezen?"), default="all")
    version = HiddenField()

    def offer(self, choices: tuple[str, ...], for_parent: bool = False) -> None:
        labels = visibility_labels()
        if for_parent:
            labels["no_parents"] = labels["no_other_parents"]
        self.visibility.choices = [(v, str(labels[v])) for v in choices]
