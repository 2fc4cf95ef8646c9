"""Conversation pages. They work without JavaScript (post, redirect, read); live.js adds live
messages, typing, read receipts and an offline queue on top."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional

from portal import db
from portal.access import authorize, current_actor, load_family
from portal.access.policy import decide
from portal.api.messages import messaging_error_text, people_of
from portal.auth.forms import REQUIRED
from portal.core import clock
from portal.core.args import MAX_ID, positive_int_arg
from portal.core.forms import Form
from portal.core.textlength import Length
from portal.family.models import Family
from portal.family.page import family_context as guest_context
from portal.family.plan_views import Pager
from portal.files import services as files
from portal.files.uploads import store_form_uploads
from portal.messaging import services
from portal.messaging.access import load_conversation
from portal.messaging.length import too_long_text
from portal.messaging.live import (
    announce_read,
    announce_unread,
    change_event,
    emit_to_readers,
    new_event,
    participants_changed,
    readable_conversations,
    topic_changed,
)
from portal.messaging.models import EDIT_WINDOW_MINUTES, MAX_BODY, MAX_TOPIC, Conversation

bp = Blueprint("messaging", __name__)
PAGE = 100
LIST_PAGE = 50  # conversations on a page of the list


def _list_pager(family: Family, total: int) -> tuple[Pager, int]:
    """The list's page (?page=, the most recent first; past the end: the last page) and the
    offset to load it from."""
    last_page = max(1, -(-total // LIST_PAGE))
    number = positive_int_arg("page", at_most=last_page) or 1
    offset = (number - 1) * LIST_PAGE

    def url(page: int) -> str:
        args: dict[str, Any] = {"page": page} if page > 1 else {}
        return url_for("messaging.conversations", family_id=family.id, **args)

    pager = Pager(
        total=total,
        first=offset + 1 if total else 0,
        last=min(total, offset + LIST_PAGE),
        prev_url=url(number - 1) if number > 1 else None,
        next_url=url(number + 1) if offset + LIST_PAGE < total else None,
    )
    return pager, offset


class NewConversationForm(Form):
    topic = StringField(_l("Onderwerp"), validators=[DataRequired(REQUIRED), Length(max=MAX_TOPIC)])


class TopicForm(Form):
    topic = StringField(
        _l("Nieuw onderwerp"), validators=[DataRequired(REQUIRED), Length(max=MAX_TOPIC)]
    )


class MessageForm(Form):
    # Text may be left empty when files are attached; the service says when both are missing.
    body = TextAreaField(
        _l("Bericht"), validators=[Optional(), Length(max=MAX_BODY, too_long=too_long_text)]
    )
    client_key = HiddenField()
    reply_to_seq = HiddenField()


def _reply_seq(raw: str | None, conversation: Conversation) -> int | None:
    if raw and raw.isdecimal() and 0 < int(raw) <= conversation.last_seq:
        return int(raw)
    return None


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
        chosen = [int(v) for v in request.form.getlist("participants") if v.isdecimal()]
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
    pager, offset = _list_pager(family, services.count_my_conversations(family, current_user))
    rows = services.my_conversations(family, current_user, LIST_PAGE, offset)
    ids = [c.id for c, _unread in rows]
    # The preview shows a message's text: only where this person may read it now.
    readable = readable_conversations(family.id, [c for c, _unread in rows])
    return render_template(
        "messaging/conversations.html",
        family=family,
        rows=rows,
        pager=pager,
        latest=services.latest_messages(readable),
        names=services.people_names(ids),
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
    if request.method == "POST" and request.form.get("action") == "read":
        return _read_without_script(family, current)
    form = MessageForm()
    status = 200
    upload_problems: list[str] = []
    if request.method == "POST":
        if not may_send:
            authorize("message.send", current)
        if form.validate():
            attachment_ids, upload_problems = store_form_uploads(
                lambda name, data: files.store(current, current_user, name, data)
            )
            try:
                if upload_problems:
                    # Nothing is sent half: the text stays in the box, the files are named.
                    raise services.MessagingError("files_refused")
                sent = services.send(
                    current,
                    current_user,
                    form.body.data or "",
                    form.client_key.data or "",
                    _reply_seq(form.reply_to_seq.data, current),
                    attachment_ids,
                )
            except services.MessagingError as exc:
                db.rollback()
                authorize("message.view", current)
                if exc.code != "files_refused":
                    form.body.errors = [*form.body.errors, messaging_error_text(exc.code)]
            else:
                if not sent.duplicate:
                    emit_to_readers("message.new", new_event(current, sent), current)
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
    if request.method == "GET":
        form.reply_to_seq.data = str(_reply_seq(request.args.get("reply"), current) or "")
    reply_seq = _reply_seq(form.reply_to_seq.data, current)
    # The newest PAGE messages, or with ?before=seq the PAGE before that one (read only: an
    # older page is not live).
    before = positive_int_arg("before")
    earlier = before is not None and before <= current.last_seq
    end = (before - 1) if before is not None and earlier else current.last_seq
    start = max(0, end - PAGE)
    messages = services.after(current, start, end - start) if end > start else []
    quotes = services.quoted(current, [m.reply_to_seq or 0 for m in messages] + [reply_seq or 0])
    # Drawing the page reads nothing: a page can be loaded in a background tab, or fetched by
    # the browser ahead of time, without anyone looking. The page's script marks messages read
    # once they were shown while the page was visible and focused (static/js/live.js).
    mine = services.participant(current, current_user.id)
    return render_template(
        "messaging/conversation.html",
        family=family,
        conversation=current,
        messages=messages,
        attachments=files.by_message(m.id for m in messages),
        quotes=quotes,
        replying_to=quotes.get(reply_seq or 0),
        upload_problems=upload_problems,
        people=people_of(current),
        form=form,
        may_send=may_send,
        may_manage=decide(current_actor(), "conversation.manage", current).allowed,
        last_read=mine.last_read_seq if mine else 0,
        editable_after=clock.now() - timedelta(minutes=EDIT_WINDOW_MINUTES),
        older=start > 0,
        older_from=start + 1,  # ?before= for the page before this one
        earlier=earlier,
        newer_from=end + PAGE + 1 if earlier and end + PAGE < current.last_seq else None,
        max_upload_mb=files.max_upload_bytes() // (1024 * 1024),
        **guest_context(family),
    ), status


class ReadForm(Form):
    seq = HiddenField()


def _read_without_script(family: Family, current: Conversation) -> Any:
    """ "Gelezen" pressed on a page without its script (which otherwise says what was seen):
    the person says themselves that they read up to the newest message drawn."""
    form = ReadForm()
    raw = form.seq.data or ""
    if form.validate() and raw.isdecimal() and int(raw) < MAX_ID:
        try:
            mine = services.mark_read(current, current_user, int(raw))
        except services.MessagingError:
            db.rollback()
        else:
            announce_read(current, mine)
            announce_unread(current)
            authorize("message.view", current)  # logged as the API's read is
    return redirect(
        url_for("messaging.conversation", family_id=family.id, conversation_id=current.id)
    )


class EditForm(Form):
    body = TextAreaField(
        _l("Bericht"),
        validators=[DataRequired(REQUIRED), Length(max=MAX_BODY, too_long=too_long_text)],
    )


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
    authorize("message.change", message, record=False)  # their own message, or a 403
    form = EditForm(obj=message if request.method == "GET" else None)
    error = None
    if request.method == "POST" and form.validate():
        try:
            if request.form.get("action") == "delete":
                services.delete(message)
            else:
                services.edit(message, form.body.data or "")
        except services.MessagingError as exc:
            error = messaging_error_text(exc.code)
        else:
            authorize("message.change", message)
            emit_to_readers("message.changed", change_event(message), current)
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


@bp.route(
    "/families/<int:family_id>/messages/<int:conversation_id>/people", methods=["GET", "POST"]
)
@login_required
def people(family_id: int, conversation_id: int) -> Any:
    """Who is in the conversation; the family adds people here (removing asks first)."""
    family = load_family(family_id, "conversation.list", record=False)
    current = load_conversation(family, conversation_id, "message.view", record=False)
    may_manage = decide(current_actor(), "conversation.manage", current).allowed
    error = None
    if request.method == "POST":
        if not may_manage:
            authorize("conversation.manage", current)
        raw = request.form.get("user_id", "")
        try:
            if not raw.isdecimal() or int(raw) >= MAX_ID:
                raise services.MessagingError("not_eligible")
            services.add_participant(current, family, int(raw))
        except services.MessagingError as exc:
            db.rollback()
            error = messaging_error_text(exc.code)
        else:
            authorize("conversation.manage", current)
            participants_changed(current, int(raw))
            return redirect(
                url_for("messaging.people", family_id=family.id, conversation_id=current.id)
            )
    authorize("message.view", current)
    return _people_page(family, current, may_manage, error, 422 if error else 200)


def _people_page(
    family: Family,
    current: Conversation,
    may_manage: bool,
    error: str | None,
    status: int,
    topic_form: TopicForm | None = None,
) -> Any:
    inside = people_of(current)
    inside_ids = {user.id for user, _read in inside}
    addable = [u for u in services.eligible_people(family) if u.id not in inside_ids]
    return render_template(
        "messaging/people.html",
        family=family,
        conversation=current,
        people=inside,
        addable=addable,
        may_manage=may_manage,
        may_rename=decide(current_actor(), "conversation.rename", current).allowed,
        may_leave=decide(current_actor(), "conversation.leave", current).allowed,
        topic_form=topic_form or TopicForm(formdata=None, topic=current.topic),
        error=error,
        **guest_context(family),
    ), status


@bp.route("/families/<int:family_id>/messages/<int:conversation_id>/topic", methods=["POST"])
@login_required
def rename(family_id: int, conversation_id: int) -> Any:
    """A new topic, from the people page; a refused one keeps what was typed."""
    family = load_family(family_id, "conversation.list", record=False)
    current = load_conversation(family, conversation_id, "conversation.rename", record=False)
    form = TopicForm()
    if form.validate():
        try:
            changed = services.rename(current, form.topic.data or "")
        except services.MessagingError as exc:
            form.topic.errors = [*form.topic.errors, messaging_error_text(exc.code)]
        else:
            authorize("conversation.rename", current)
            if changed:
                topic_changed(current)
                flash(_('Het onderwerp is nu "%(topic)s".', topic=current.topic), "success")
            return redirect(
                url_for("messaging.people", family_id=family.id, conversation_id=current.id)
            )
    authorize("message.view", current)
    may_manage = decide(current_actor(), "conversation.manage", current).allowed
    return _people_page(family, current, may_manage, None, 422, topic_form=form)


@bp.route(
    "/families/<int:family_id>/messages/<int:conversation_id>/people/<int:user_id>/remove",
    methods=["GET", "POST"],
)
@login_required
def remove_person(family_id: int, conversation_id: int, user_id: int) -> Any:
    """Take someone out (the family, from inside), or leave yourself (anyone in it); a
    confirmation first."""
    family = load_family(family_id, "conversation.list", record=False)
    action = "conversation.leave" if user_id == current_user.id else "conversation.manage"
    current = load_conversation(family, conversation_id, action, record=False)
    person = next((u for u, _read in people_of(current) if u.id == user_id), None)
    if person is None:
        authorize("message.view", current)
        abort(404)
    error = None
    if request.method == "POST":
        try:
            services.remove_participant(current, user_id)
        except services.MessagingError as exc:
            db.rollback()
            error = messaging_error_text(exc.code)
        else:
            authorize(action, current)
            participants_changed(current, user_id)
            if user_id == current_user.id:
                flash(
                    _(
                        'Je doet niet meer mee in "%(topic)s". Iemand uit het gezin kan je '
                        "er weer bij zetten.",
                        topic=current.topic,
                    ),
                    "success",
                )
                return redirect(url_for("messaging.conversations", family_id=family.id))
            return redirect(
                url_for("messaging.people", family_id=family.id, conversation_id=current.id)
            )
    authorize("message.view", current)
    return render_template(
        "messaging/remove_person.html",
        family=family,
        conversation=current,
        person=person,
        error=error,
        **guest_context(family),
    ), (409 if error else 200)


@bp.get("/families/<int:family_id>/messages/search")
@login_required
def search(family_id: int) -> Any:
    family = load_family(family_id, "conversation.list")
    query = request.args.get("q", "")
    before = request.args.get("before", "")
    error = None
    found: list[Any] = []
    if query:
        try:
            found = services.search(
                family,
                current_user,
                query,
                SEARCH_PAGE + 1,
                int(before) if before.isdecimal() and int(before) < MAX_ID else None,
            )
        except services.MessagingError as exc:
            error = messaging_error_text(exc.code)
    more = len(found) > SEARCH_PAGE
    found = found[:SEARCH_PAGE]
    topics = {c.id: c for c, _unread in services.my_conversations(family, current_user)}
    for conversation_id in {m.conversation_id for m in found}:
        authorize("message.view", topics[conversation_id])
    return render_template(
        "messaging/search.html",
        family=family,
        query=query,
        found=found,
        topics=topics,
        more=more,
        error=error,
        **guest_context(family),
    ), (400 if error else 200)


SEARCH_PAGE = 25
