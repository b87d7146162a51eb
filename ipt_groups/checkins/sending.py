"""What the dispatcher does with a check-in message: sending it opens the member's conversation, a
preview shows its first text, and each tick expires open check-ins past their time and replays the
inbound texts kept on disk while the database was unreachable. The worker hands
these to messaging/, which knows no capability."""

from __future__ import annotations

from ipt_groups.checkins import instruments
from ipt_groups.checkins.conversations import expire_checkins, open_checkin
from ipt_groups.checkins.spool import replay_spooled
from ipt_groups.messaging.dispatch import KindHandler
from ipt_groups.models import Message


def preview_checkin(message: Message) -> str:
    """The check-in's first text as a preview; sending opens the conversation instead."""
    instrument = message.context["instrument"]
    return instruments.intro_text(instrument) + " " + instruments.prompt_text(instrument, 0)


KINDS = {"checkin": KindHandler(compose=open_checkin, preview=preview_checkin)}
ON_TICK = (expire_checkins, replay_spooled)
