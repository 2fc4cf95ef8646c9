"""Untouched forms, drawn once: the HTML of a form nobody has filled in yet.

The plan page carries four "add" forms (a petal, a goal, an agreement, a moment) under closed
<details>. Drawing them through WTForms and the field macro took about 10 ms of a 50 ms page,
on every view, although their HTML only changes when their choices change (members, petals,
goals). An untouched form's HTML depends on nothing but its class, its fields (values,
choices, labels, hints), the language, where it posts and what the template passes to draw it:
together they are the key, so a kept copy can never show another form, family, language or a
stale choice. A form that was filled in (bound to what was
typed) or carries errors is always drawn anew and never kept, so nothing typed is kept here.

The CSRF token is per session and must never be cached: the block draws `csrf_slot` where
the token goes, and every copy served gets the current session's token put in its place. The
slot cannot be typed into the page by anyone, because every "<" in text is escaped.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from wtforms import Form

CSRF_SLOT = Markup("<csrf-slot>")
MAX_FORMS = 256  # an untouched form is 2–30 kB; a few MB at most per process

_drawn: OrderedDict[Hashable, str] = OrderedDict()
_lock = threading.Lock()


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


def pristine_form(form: Form, action: str, *shown: Any, caller: Callable[[], str]) -> Markup:
    """`{% call pristine_form(form, action, …) %}<form …>{% endcall %}` in a template: the
    block as drawn before for the same key, else drawn now (and kept when untouched). Pass
    everything else the block shows (`shown`: its fields, its button's words)."""
    key = form_key(form, action, *shown)
    html = None
    if key is not None:
        with _lock:
            html = _drawn.get(key)
            if html is not None:
                _drawn.move_to_end(key)
    if html is None:
        html = str(caller())
        if key is not None:
            with _lock:
                _drawn[key] = html
                while len(_drawn) > MAX_FORMS:
                    _drawn.popitem(last=False)
    token = str(escape(generate_csrf()))
    # Drawn by the template with autoescape on (caller()), only the escaped token put in.
    return Markup(html.replace(CSRF_SLOT, token))  # noqa: S704


def forget_all() -> None:
    """For tests: start with nothing drawn."""
    with _lock:
        _drawn.clear()
