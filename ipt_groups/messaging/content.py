"""The text of a message, composed when it is sent so it shows the session's current time."""

from __future__ import annotations

from ipt_groups.extensions import db
from ipt_groups.messaging.recipients import Recipient
from ipt_groups.messaging.texts import first_name, local_when, render
from ipt_groups.models import Group, GroupSession, IndividualMeeting, Message


def compose(message: Message, recipient: Recipient, settings) -> str:
    """The body for `message`: a fixed body if one was planned, else its text with the context."""
    if message.context.get("body"):
        return message.context["body"]
    if message.kind in settings.kinds:  # as a preview; the dispatcher calls the kind's compose instead
        return settings.kinds[message.kind].preview(message)
    context = {
        "programme": settings.programme,
        "first_name": first_name(recipient.name, recipient.preferred_name),
    }
    context.update(_subject_context(message, recipient))
    context.update({k: v for k, v in message.context.items() if k != "text"})
    return render(message.context.get("text") or text_key(message), context, settings.texts)


def text_key(message: Message) -> str:
    """Which text a reminder uses: session_reminder_24h, meeting_reminder_2h ..."""
    return f"{'meeting' if message.meeting_id else 'session'}_{message.kind}"


def _subject_context(message: Message, recipient: Recipient) -> dict:
    if message.meeting_id is not None:
        meeting = db.session.get(IndividualMeeting, message.meeting_id)
        return local_when(meeting.starts_at, recipient.timezone)
    if message.session_id is None:
        return {}
    session = db.session.get(GroupSession, message.session_id)
    group = db.session.get(Group, session.group_id)
    context = local_when(session.starts_at, recipient.timezone, group.timezone)
    if message.facilitator_id is not None:
        names = sorted(m.name for m in group.current_members)
        context.update(group=group.name, count=len(names), roster=", ".join(names))
    return context
