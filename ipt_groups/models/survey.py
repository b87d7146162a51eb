from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, Index, String, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ipt_groups.extensions import db
from ipt_groups.models.checks import one_of
from ipt_groups.models.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from ipt_groups.models.message import Message

CHECKIN_STATUSES = ("open", "complete", "expired", "cancelled")


class Checkin(db.Model):
    """One SMS survey conversation with a member, and its score once answered."""

    __tablename__ = "checkins"
    __table_args__ = (
        one_of("status", CHECKIN_STATUSES),
        # One open conversation per member, held by the database.
        Index(
            "uq_checkins_open_member",
            "member_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"), index=True)
    occasion: Mapped[str] = mapped_column(String(32))
    instrument: Mapped[str] = mapped_column(String(16))
    answers: Mapped[list] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(default=0)
    reprompted: Mapped[bool] = mapped_column(default=False)
    begun: Mapped[bool] = mapped_column(default=True, server_default=true())  # False: the invitation waits
    status: Mapped[str] = mapped_column(String(16), default="open")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[int | None]
    band: Mapped[str | None] = mapped_column(String(32))
    complete: Mapped[bool] = mapped_column(default=False)


# unmarked: a held session where some members have no attendance mark (a prompt to its facilitator)
# small_group: a group below its minimum size a set time before its start (a prompt to coordinators)
ALERT_KINDS = (
    "safety",
    "outreach",
    "operator",
    "rsvp_decline",
    "cannot_complete",
    "small_group",
    "unmarked",
)


class Alert(db.Model):
    """Something a person must see and acknowledge: a safety signal, an outreach task, an operator
    problem. `notified` records who was told, at which level and when; whether each text went out
    is read from its outbox row (`messages`). An open safety alert escalates one level each time
    `next_escalation_at` passes."""

    __tablename__ = "alerts"
    __table_args__ = (one_of("kind", ALERT_KINDS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    notified: Mapped[list] = mapped_column(JSON, default=list)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    escalation_level: Mapped[int] = mapped_column(default=0, server_default="0")
    next_escalation_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    messages: Mapped[list[Message]] = relationship(
        "Message", lazy="selectin", order_by="Message.id", viewonly=True
    )

    @property
    def deliveries(self) -> list[dict]:
        """`notified` with each text's fate read from its outbox row: state, when it was accepted,
        what the carrier reported, and whether it arrived."""
        rows = {m.id: m for m in self.messages}
        return [{**entry, **delivery(rows.get(entry.get("message_id")))} for entry in self.notified or []]


UNDELIVERED_STATES = ("failed", "suppressed", "unknown", "expired")


def delivery(message: Message | None) -> dict:
    """One text's fate, from its outbox row."""
    if message is None:
        return {"state": None, "delivered": None}
    return {
        "state": message.state,
        "attempts": message.attempts,
        "sent_at": message.sent_at.isoformat() if message.sent_at else None,
        "delivery_status": message.delivery_status,
        "delivered": _arrived(message),
        "reason": message.reason,
    }


def _arrived(message: Message) -> bool | None:
    """True once the carrier reports it delivered, False once it cannot arrive, None until known."""
    if message.delivery_status == "delivered":
        return True
    if message.delivery_status in ("undelivered", "failed") or message.state in UNDELIVERED_STATES:
        return False
    return None
