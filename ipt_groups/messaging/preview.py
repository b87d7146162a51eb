"""A coordinator's preview of a cycle's messages before it starts."""

from __future__ import annotations

from collections.abc import Iterator
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from ipt_groups.errors import NotFound
from ipt_groups.extensions import db
from ipt_groups.messaging.base import mask_phone
from ipt_groups.messaging.content import compose
from ipt_groups.messaging.dispatch import DispatchSettings
from ipt_groups.messaging.recipients import resolve_recipient
from ipt_groups.models import Group, Message


def preview_lines(group_id: int, settings: DispatchSettings) -> Iterator[str]:
    """One line per pending message: local send time, recipient, kind and text (as `settings` compose it)."""
    if db.session.get(Group, group_id) is None:
        raise NotFound(f"no group {group_id}")
    query = select(Message).filter_by(group_id=group_id, state="pending").order_by(Message.due_at, Message.id)
    count = 0
    for message in db.session.scalars(query):
        recipient = resolve_recipient(message)
        local = message.due_at.astimezone(ZoneInfo(recipient.timezone))
        yield (
            f"{local:%a %Y-%m-%d %H:%M %Z}  {recipient.name} {mask_phone(recipient.phone)}  "
            f"[{message.kind}]  {compose(message, recipient, settings)}"
        )
        count += 1
    yield f"{count} messages planned for group {group_id} ({current_app.config['PROGRAMME_NAME']})"
