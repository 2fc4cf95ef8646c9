"""The base class of every page form: Flask-WTF with CSRF, reading only real form posts.

Flask-WTF would also read a JSON body as form data, and crash on a JSON list; page forms are
posted by browsers, so JSON (the API's business) is ignored here and the form simply fails
validation with its normal messages.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto, _is_submitted
from werkzeug.datastructures import CombinedMultiDict, MultiDict


def _without_nul(formdata: Any) -> Any:
    """NUL characters carry no meaning in text and PostgreSQL refuses them: drop them here,
    once, for every page form (the API refuses them with a clear message instead)."""
    if not hasattr(formdata, "items"):
        return formdata
    cleaned: MultiDict[str, Any] = MultiDict()
    for key, value in formdata.items(multi=True):
        cleaned.add(key, value.replace("\x00", "") if isinstance(value, str) else value)
    return cleaned


class Form(FlaskForm):
    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            if formdata is _Auto:
                if not _is_submitted():
                    return None
                formdata = request.form
                if request.files:
                    return CombinedMultiDict((request.files, _without_nul(formdata)))
            return _without_nul(formdata) if formdata is not None else None
