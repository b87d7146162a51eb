from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ipt_groups.extensions import db
from ipt_groups.models.checks import one_of
from ipt_groups.models.types import UTCDateTime, utcnow

ATTENDANCE_STATUSES = ("present", "late", "absent", "excused")
RSVP_RESPONSES = ("confirm", "decline")


class AttendanceRecord(db.Model):
    """Whether a member came to a group session or an individual meeting."""

    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("session_id", "member_id"),
        UniqueConstraint("meeting_id", "member_id"),
        one_of("status", ATTENDANCE_STATUSES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("individual_meetings.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(1000))
    source: Mapped[str] = mapped_column(String(16), default="facilitator")  # or "sms" (an X reply)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Rsvp(db.Model):
    """A member's reply to a session reminder: C (confirm) or X (can't come); the latest counts."""

    __tablename__ = "rsvps"
    __table_args__ = (UniqueConstraint("session_id", "member_id"), one_of("response", RSVP_RESPONSES))

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    response: Mapped[str] = mapped_column(String(16))
    responded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
