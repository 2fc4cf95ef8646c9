"""What a person is told when a file is refused."""

from __future__ import annotations

from flask_babel import gettext as _

from portal.files.checks import FileRefused


def refusal_text(exc: FileRefused, name: str = "") -> str:
    details = exc.details
    prefix = f"{name}: " if name else ""
    text = {
        "empty": _("Dit bestand is leeg."),
        "no_name": _("Het bestand heeft geen naam."),
        "too_large": _("Dit bestand is te groot. Het mag hoogstens %(mb)s MB zijn.")
        % {"mb": details.get("limit_mb", 10)},
        "not_allowed": _(
            "Dit soort bestand kan niet. Je kunt PDF, foto's (JPG, PNG, GIF, WEBP) en "
            "Office-bestanden sturen."
        ),
        "name_mismatch": _(
            "De naam past niet bij wat er in het bestand zit. Het is een .%(ext)s-bestand."
        )
        % {"ext": details.get("expected", "")},
        "too_many": _("Je kunt hoogstens %(n)s bestanden tegelijk sturen.")
        % {"n": details.get("limit", 5)},
        "unknown_file": _(
            "Een van de bestanden bestaat niet of is al gebruikt. Stuur het opnieuw."
        ),
    }.get(exc.code, _("Dit bestand kan niet."))
    return prefix + text
