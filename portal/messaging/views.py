"""Conversation pages. They work without JavaScript (post, redirect, read); live.js adds live
messages, typing, read receipts and an offline queue on top."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal import db
from portal.access import authorize, current_actor, load_family
from portal.access.policy import decide
from portal.api.messages import messaging_error_text, people_of, refuse_unless_author
from portal.auth.forms import REQUIRED
from portal.core import clock
from portal.core.forms import Form
from portal.family.views import guest_context
from portal.messaging import services
from portal.messaging.access import load_conversation
from portal.messaging.live import (
    change_event,
    conversation_room,
    emit_after_commit,
    message_event,
)
from portal.messaging.models import EDIT_WINDOW_MINUTES, MAX_BODY, MAX_TOPIC

bp = Blueprint("messaging", __name__)
PAGE = 100


class NewConversationForm(Form):
    topic = StringField(_l("Onderwerp"), validators=[DataRequired(REQUIRED), Length(max=MAX_TOPIC)])


class MessageForm(Form):
    body = TextAreaField(_l("Bericht"), validators=[DataRequired(REQUIRED), Length(max=MAX_BODY)])
    client_key = HiddenField()


@bp.route("/families/<int:family_id>/messages", methods=["GET", "POST"])
@login_required
def conversations(family_id: int) -> Any:
    # A POST is logged once, as what it turned out to be (refused, created, or only a view).
    family = load_family(family_id, "conversation.list", record=request.method == "GET")
    may_start = decide(current_actor(), "conversation.create", family).allowed
    form = NewConversationForm()
    people = [u for u in services.eligible_people(family) if u.id != current_user.id]
    chosen: list[int] = []
    status = 200
    if request.method == "POST":
        if not may_start:
            authorize("conversation.create", family)  # refuses (403) and logs it
        chosen = [int(v) for v in request.form.getlist("participants") if v.isdigit()]
        if form.validate():
            try:
                conversation = services.start(family, current_user, form.topic.data or "", chosen)
            except services.MessagingError as exc:
                form.form_errors.append(messaging_error_text(exc.code))
            else:
                authorize("conversation.create", conversation)
                return redirect(
                    url_for(
                        "messaging.conversation",
                        family_id=family.id,
                        conversation_id=conversation.id,
                    )
                )
        status = 422
        authorize("conversation.list", family)
    rows = services.my_conversations(family, current_user)
    return render_template(
        "messaging/conversations.html",
        family=family,
        rows=rows,
        form=form,
        people=people,
        chosen=chosen,
        may_start=may_start,
        **guest_context(family),
    ), status


@bp.route("/families/<int:family_id>/messages/<int:conversation_id>", methods=["GET", "POST"])
@login_required
def conversation(family_id: int, conversation_id: int) -> Any:
    family = load_family(family_id, "conversation.list", record=False)
    current = load_conversation(family, conversation_id, "message.view")
    may_send = decide(current_actor(), "message.send", current).allowed
    form = MessageForm()
    status = 200
    if request.method == "POST":
        if not may_send:
            authorize("message.send", current)
        if form.validate():
            try:
                sent = services.send(
                    current, current_user, form.body.data or "", form.client_key.data or ""
                )
            except services.MessagingError as exc:
                form.body.errors = [*form.body.errors, messaging_error_text(exc.code)]
            else:
                if not sent.duplicate:
                    emit_after_commit(
                        "message.new", message_event(sent.message), conversation_room(current.id)
                    )
                return redirect(
                    url_for(
                        "messaging.conversation", family_id=family.id, conversation_id=current.id
                    )
                    + f"#m{sent.message.seq}"
                )
        status = 422
    # A fresh key each time the form is shown: pressing send twice stores the message once.
    if status == 200 or not form.client_key.data:
        form.client_key.data = "page-" + secrets.token_urlsafe(16)
    start = max(0, current.last_seq - PAGE)
    messages = services.after(current, start, PAGE)
    mine = services.mark_read(current, current_user, current.last_seq)
    db.session.flush()
    return render_template(
        "messaging/conversation.html",
        family=family,
        conversation=current,
        messages=messages,
        people=people_of(current),
        form=form,
        may_send=may_send,
        last_read=mine.last_read_seq,
        editable_after=clock.now() - timedelta(minutes=EDIT_WINDOW_MINUTES),
        older=start > 0,
        **guest_context(family),
    ), status


class EditForm(Form):
    body = TextAreaField(_l("Bericht"), validators=[DataRequired(REQUIRED), Length(max=MAX_BODY)])


@bp.route(
    "/families/<int:family_id>/messages/<int:conversation_id>/<int:seq>/edit",
    methods=["GET", "POST"],
)
@login_required
def edit_message(family_id: int, conversation_id: int, seq: int) -> Any:
    """Change or delete your own message, within 15 minutes of sending it."""
    family = load_family(family_id, "conversation.list", record=False)
    current = load_conversation(family, conversation_id, "message.send", record=False)
    message = services.by_seq(current, seq)
    if message is None:
        authorize("message.view", current)
        abort(404)
    refuse_unless_author(message)
    form = EditForm(obj=message if request.method == "GET" else None)
    error = None
    if request.method == "POST" and form.validate():
        try:
            if request.form.get("action") == "delete":
                services.delete(message, current_user)
            else:
                services.edit(message, current_user, form.body.data or "")
        except services.MessagingError as exc:
            error = messaging_error_text(exc.code)
        else:
            authorize("message.send", current)
            emit_after_commit(
                "message.changed", change_event(message), conversation_room(current.id)
            )
            return redirect(
                url_for("messaging.conversation", family_id=family.id, conversation_id=current.id)
                + f"#m{seq}"
            )
    authorize("message.view", current)
    status = 200 if request.method == "GET" else (409 if error else 422)
    return render_template(
        "messaging/edit.html",
        family=family,
        conversation=current,
        message=message,
        form=form,
        error=error,
        **guest_context(family),
    ), status
