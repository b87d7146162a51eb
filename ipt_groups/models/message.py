from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ipt_groups.extensions import db
from ipt_groups.models.checks import one_of
from ipt_groups.models.types import UTCDateTime, utcnow

MESSAGE_STATES = ("pending", "sending", "sent", "failed", "cancelled", "expired", "suppressed", "unknown")
DELIVERY_STATUSES = ("queued", "sent", "delivered", "undelivered", "failed")
# Texts that take a person's crisis to a human: claimed first, retried until accepted, never held.
SAFETY_KINDS = ("safety_alert", "crisis_line")
# Literal SQL, written the same in the partial index and in the safety claim, so that SQLite and
# PostgreSQL (even with a generic prepared plan) can prove the claim matches the index.
SAFETY_PENDING = "state = 'pending' AND kind IN ({})".format(", ".join(f"'{k}'" for k in SAFETY_KINDS))
# Texts a person is waiting for with a page open (a sign-in code): claimed right after the safety
# lane, ahead of any backlog, through an index of their own; not retried like safety texts.
URGENT_KINDS = ("signin_code",)
URGENT_PENDING = "state = 'pending' AND kind IN ({})".format(", ".join(f"'{k}'" for k in URGENT_KINDS))


class Message(db.Model):
    """The outbox: one planned SMS. `dedupe_key` (recipient, subject, kind) makes it impossible to
    plan or send the same message twice by any path."""

    __tablename__ = "messages"
    __table_args__ = (
        one_of("state", MESSAGE_STATES),
        # The dispatcher's only scan: due rows of one state, oldest first.
        Index("ix_messages_state_due_at", "state", "due_at"),
        # The reconciler's read: one group's pending rows (not every pending row of the programme).
        Index("ix_messages_group_id_state", "group_id", "state"),
        # The safety lane's scan: a handful of rows however many millions the outbox holds.
        Index(
            "ix_messages_safety_pending",
            "due_at",
            "id",
            sqlite_where=text(SAFETY_PENDING),
            postgresql_where=text(SAFETY_PENDING),
        ),
        Index(
            "ix_messages_urgent_pending",
            "due_at",
            "id",
            sqlite_where=text(URGENT_PENDING),
            postgresql_where=text(URGENT_PENDING),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    facilitator_id: Mapped[int | None] = mapped_column(ForeignKey("facilitators.id"), index=True)
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("coordinators.id"), index=True)
    to_phone: Mapped[str | None] = mapped_column(String(20))  # for recipients who are none of these
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), index=True)  # a safety text's
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("individual_meetings.id"))
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    body: Mapped[str | None] = mapped_column(Text)
    segments: Mapped[int | None]  # what the body costs: SMS segments (GSM-7 or UCS-2), set when composed
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str | None] = mapped_column(String(300))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    # Set (and committed) just before the provider is called: a crash after it leaves a row that
    # may have been sent, which recovery marks unknown instead of sending again.
    send_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class InboundMessage(db.Model):
    """An SMS received; `provider_id` (Twilio's MessageSid) makes Twilio's retries harmless."""

    __tablename__ = "inbound_messages"
    # A sender's recent texts: words of crisis split over several texts are read joined.
    __table_args__ = (Index("ix_inbound_messages_from_phone_received_at", "from_phone", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(64), unique=True)
    from_phone: Mapped[str] = mapped_column(String(20))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled: Mapped[dict] = mapped_column(JSON, default=dict)
