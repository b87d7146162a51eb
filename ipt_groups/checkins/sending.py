"""What the dispatcher does with a check-in message: sending it opens the member's conversation, a
preview shows its first text, and each tick expires open check-ins past their time and replays the
inbound texts kept on disk while the database was unreachable. The worker hands
these to messaging/, which knows no capability."""

from __future__ import annotations

from ipt_groups.checkins.conversations import (
    expire_checkins,
    instrument_for_member,
    open_checkin,
    opens_with_invitation,
)
from ipt_groups.checkins.spool import replay_spooled
from ipt_groups.checkins.wording import first_text
from ipt_groups.extensions import db
from ipt_groups.messaging.dispatch import KindHandler
from ipt_groups.models import Member, Message


def preview_checkin(message: Message) -> str:
    """The check-in's first text, in the member's language, as a preview; sending opens the
    conversation instead."""
    inst = instrument_for_member(message.context["instrument"], db.session.get(Member, message.member_id))
    return first_text(inst, opens_with_invitation())


KINDS = {"checkin": KindHandler(compose=open_checkin, preview=preview_checkin)}
ON_TICK = (expire_checkins, replay_spooled)
