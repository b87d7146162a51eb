"""Intake: screens that decide whether a member is eligible for a group, and the invitations that offer
a member a seat in one, which they accept or decline by SMS."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ipt_groups.extensions import db
from ipt_groups.models.checks import one_of
from ipt_groups.models.types import UTCDateTime, utcnow

SCREEN_METHODS = ("sms", "phone", "override")
SCREEN_OUTCOMES = ("pending", "eligible", "not_eligible", "incomplete")
INVITATION_STATUSES = ("offered", "accepted", "declined", "expired", "cancelled", "too_late")


class Screening(db.Model):
    """One screen of a member at intake: a PHQ-9 by SMS or by phone, or a coordinator's override, with
    its outcome under the programme's eligibility rule at the time."""

    __tablename__ = "screenings"
    __table_args__ = (one_of("method", SCREEN_METHODS), one_of("outcome", SCREEN_OUTCOMES))

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))
    checkin_id: Mapped[int | None] = mapped_column(ForeignKey("checkins.id"))
    score: Mapped[int | None]
    item9: Mapped[int | None]
    threshold: Mapped[int | None]
    outcome: Mapped[str] = mapped_column(String(16))
    needs_human: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(String(500))
    recorded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Invitation(db.Model):
    """A seat in a group offered to a waitlisted member until `deadline_at`: accepted (enrolled),
    declined, expired (no reply), cancelled (STOP, a coordinator) or too late (the seat went first).
    `replaces_id` is the invitation whose seat this one offers again."""

    __tablename__ = "invitations"
    __table_args__ = (
        one_of("status", INVITATION_STATUSES),
        # One open offer per member, held by the database.
        Index(
            "uq_invitations_offered_member",
            "member_id",
            unique=True,
            sqlite_where=text("status = 'offered'"),
            postgresql_where=text("status = 'offered'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="offered", index=True)
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    first_session_at: Mapped[datetime] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(200))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id"))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("group_proposals.id"))
    created_by: Mapped[str] = mapped_column(String(200))

    group = relationship("Group", lazy="joined")
    member = relationship("Member", lazy="joined")
