"""Mail about messages waiting unread: after 15 minutes, or once a day as a digest. The mail says
*that* there is a message, never what it says, its topic or which family it is in."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal import db
from portal.auth.models import User
from portal.core import clock, mail
from portal.messaging.models import Conversation, Message, Participant

MAIL_OFF, MAIL_15MIN, MAIL_DAILY = "off", "15min", "daily"
MAIL_CHOICES = (MAIL_OFF, MAIL_15MIN, MAIL_DAILY)
DELAY = timedelta(minutes=15)
DIGEST_HOUR = 8  # local time: the daily digest goes out from this hour on
_AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def send_message_mails() -> int:
    """Run every few minutes from cron. Returns the number of mails sent."""
    now = clock.now()
    local = now.astimezone(_AMSTERDAM)
    waiting = db.session.execute(
        select(Participant, Conversation, User)
        .join(Conversation, Conversation.id == Participant.conversation_id)
        .join(User, User.id == Participant.user_id)
        .where(
            Participant.removed_at.is_(None),
            Participant.last_read_seq < Conversation.last_seq,
            Participant.notified_seq < Conversation.last_seq,
            User.message_mail != MAIL_OFF,
        )
    ).all()
    quick: dict[int, tuple[User, list[tuple[Participant, Conversation]]]] = {}
    digest: dict[int, tuple[User, list[tuple[Participant, Conversation]]]] = {}
    for participant, conversation, user in waiting:
        if user.message_mail == MAIL_DAILY:
            if local.hour >= DIGEST_HOUR and user.last_digest_on != local.date():
                digest.setdefault(user.id, (user, []))[1].append((participant, conversation))
            continue
        first_unseen = max(participant.last_read_seq, participant.notified_seq) + 1
        oldest = db.session.scalar(
            select(Message.created_at).where(
                Message.conversation_id == conversation.id, Message.seq == first_unseen
            )
        )
        if oldest is not None and now - oldest >= DELAY:
            quick.setdefault(user.id, (user, []))[1].append((participant, conversation))
    sent = 0
    for kind, batch in (("unread_message", quick), ("unread_digest", digest)):
        for user, items in batch.values():
            mail.send(
                user.email,
                kind,
                locale=user.locale,
                name=user.display_name,
                count=len(items),
                url=mail.link("main.index"),
            )
            for participant, conversation in items:
                participant.notified_seq = conversation.last_seq
            if kind == "unread_digest":
                user.last_digest_on = local.date()
            sent += 1
    db.session.flush()
    return sent
