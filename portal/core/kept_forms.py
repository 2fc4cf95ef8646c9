"""Untouched add forms, drawn once and kept as fragments (portal/core/caching.py).

A plan section is drawn again after every change in the family, and its "add" form was most of
that drawing (WTForms and the field macro: about two thirds of a section drawn anew). An
untouched form's HTML depends on nothing but its class, its fields (values, choices, labels,
hints), the language, where it posts and what the template passes to draw it: together they
are its key, so a kept copy can never show another form, family, language or a stale choice.
A form that was filled in or carries errors is always drawn anew and never kept, so nothing
anyone typed is kept. Its CSRF token is a slot like every fragment's.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from flask_babel import get_locale
from markupsafe import Markup
from wtforms import Form

from portal.core import caching


def _choices(field: Any) -> Hashable:
    choices = getattr(field, "choices", None)
    if choices is None:
        return None
    if isinstance(choices, dict):  # groups of options
        return tuple((str(group), _flat(options)) for group, options in choices.items())
    return _flat(choices)


def _flat(choices: Any) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(map(str, c if isinstance(c, tuple) else (c,))) for c in choices)


def form_key(form: Form, action: str, *shown: Any) -> Hashable | None:
    """What an untouched form's HTML depends on (with what the template passes to draw it:
    `shown`); None when it was filled in or has errors."""
    fields = [f for f in form if f.name != "csrf_token"]
    if form.errors or any(f.raw_data is not None for f in fields):
        return None
    return (
        f"{type(form).__module__}.{type(form).__qualname__}",
        str(get_locale()),
        action,
        repr(shown),
        tuple(
            (
                f.name,
                f.type,
                repr(f.data),
                _choices(f),
                str(f.label.text),
                str(f.description),
                repr(f.render_kw),
            )
            for f in fields
        ),
    )


def kept_form(form: Form, action: str, *shown: Any, caller: Callable[[], str]) -> Markup:
    """`{% call kept_form(form, action, …) %}<form …>{% endcall %}` in a template: the block as
    drawn before for the same key, else drawn now (and kept when untouched). Pass everything
    else the block shows (`shown`: its fields, its button's words)."""
    return caching.fragment("form", form_key(form, action, *shown), caller)
