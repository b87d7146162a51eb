"""Who a message goes to, at the moment it is sent: phone, timezone, and whether they may be texted."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from ipt_groups.extensions import db
from ipt_groups.models import Coordinator, Facilitator, Member, Message


@dataclass(frozen=True)
class Recipient:
    """A resolved recipient; `blocked` says why they must not be texted."""

    name: str
    phone: str
    timezone: str
    blocked: str | None = None
    language: str = "en"  # the language their texts are written in (English if it has no catalogue)
    preferred_name: str | None = None  # a member's: what greetings call them


def resolve_recipient(message: Message) -> Recipient:
    """The member, the facilitator, the coordinator or the on-call number the message is for."""
    if message.member_id is not None:
        return _member(db.session.get(Member, message.member_id))
    if message.facilitator_id is not None:
        f = db.session.get(Facilitator, message.facilitator_id)
        return Recipient(f.name, f.phone, f.timezone, language=f.language)
    if message.coordinator_id is not None:
        return _coordinator(db.session.get(Coordinator, message.coordinator_id))
    config = current_app.config
    blocked = None if message.to_phone else "no phone number"
    return Recipient(
        "on call", message.to_phone or "", config["PROGRAMME_TIMEZONE"], blocked, config["ONCALL_LANGUAGE"]
    )


def _coordinator(c: Coordinator) -> Recipient:
    blocked = None if c.phone else "the coordinator has no phone number"
    if c.active is False:
        blocked = "the coordinator is no longer active"
    return Recipient(c.name, c.phone or "", c.timezone, blocked, c.language)


def _member(member: Member) -> Recipient:
    blocked = member_block_reason(member)
    return Recipient(
        member.name, member.phone, member.timezone, blocked, member.language, member.preferred_name
    )


def member_block_reason(member: Member) -> str | None:
    """Why a member must not be texted now, or None."""
    if member.opted_out_at is not None:
        return "the member texted STOP"
    if not member.sms_consent:
        return "no consent to SMS on record"
    if member.phone_problem:
        return f"the phone number was refused ({member.phone_problem})"
    return None
