from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ipt_groups.extensions import db
from ipt_groups.models.checks import one_of
from ipt_groups.models.types import UTCDateTime, utcnow

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
    status: Mapped[str] = mapped_column(String(16), default="open")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[int | None]
    band: Mapped[str | None] = mapped_column(String(32))
    complete: Mapped[bool] = mapped_column(default=False)


ALERT_KINDS = ("safety", "outreach", "operator", "rsvp_decline", "cannot_complete")


class Alert(db.Model):
    """Something a person must see and acknowledge: a safety signal, an outreach task, an operator
    problem. `notified` records who was told and when."""

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
