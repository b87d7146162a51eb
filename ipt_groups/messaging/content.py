"""The text of a message, composed when it is sent so it shows the session's current time, in the
recipient's language (their catalogue, with the programme's own texts) and timezone."""

from __future__ import annotations

from datetime import datetime

from ipt_groups.extensions import db
from ipt_groups.messaging.catalogue import Catalogue, shipped
from ipt_groups.messaging.recipients import Recipient
from ipt_groups.messaging.texts import day_relation, day_word, first_name, group_label, local_when, roster
from ipt_groups.models import Group, GroupSession, IndividualMeeting, Message

# Context a planned row keeps for the planner, not the text: which text, and the times it tells of.
PLAN_ONLY = frozenset({"text", "old_start", "new_start", "status"})


def compose(message: Message, recipient: Recipient, settings, sent_at: datetime | None = None) -> str:
    """The body for `message`: a fixed body if one was planned, else its text with the context. Which
    day a meeting is ("today", "tomorrow", or its date) is seen from `sent_at`, when the text really goes
    out (a preview: when it is due)."""
    if message.context.get("body"):
        return message.context["body"]
    if message.kind in settings.kinds:  # as a preview; the dispatcher calls the kind's compose instead
        return settings.kinds[message.kind].preview(message)
    catalogue = (settings.catalogues or shipped()).localised(recipient.language, settings.texts)
    context = {
        "programme": settings.programme,
        "first_name": first_name(recipient.name, recipient.preferred_name),
    }
    context.update(_subject_context(message, recipient, catalogue, sent_at or message.due_at))
    context.update({k: v for k, v in message.context.items() if k not in PLAN_ONLY})
    if message.context.get("old_start"):
        old = datetime.fromisoformat(message.context["old_start"])
        context["old_when"] = local_when(old, recipient.timezone, catalogue, context.get("group_tz"))["when"]
    return catalogue.render(message.context.get("text") or text_key(message), context)


def text_key(message: Message) -> str:
    """Which text a reminder uses: session_reminder_24h, meeting_reminder_2h ..."""
    return f"{'meeting' if message.meeting_id else 'session'}_{message.kind}"


def _subject_context(message: Message, recipient: Recipient, catalogue: Catalogue, sent_at: datetime) -> dict:
    if message.meeting_id is not None:
        meeting = db.session.get(IndividualMeeting, message.meeting_id)
        return _when(meeting.starts_at, sent_at, recipient, catalogue)
    if message.session_id is None:
        return {}
    session = db.session.get(GroupSession, message.session_id)
    group = db.session.get(Group, session.group_id)
    context = _when(session.starts_at, sent_at, recipient, catalogue, group.timezone)
    context["group_tz"] = group.timezone
    if message.facilitator_id is not None:
        people = [(m.name, m.preferred_name) for m in group.current_members]
        context.update(group=group_label(group.id, catalogue), count=len(people), roster=roster(people))
    return context


def _when(starts_at: datetime, sent_at: datetime, recipient: Recipient, catalogue: Catalogue, group_tz=None):
    """When the meeting is, and which day, seen from when the text goes out in the reader's zone."""
    context = local_when(starts_at, recipient.timezone, catalogue, group_tz)
    relation = day_relation(starts_at, sent_at, recipient.timezone)
    return {**context, "day": day_word(catalogue, relation)}
