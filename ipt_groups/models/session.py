from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ipt_groups.extensions import db
from ipt_groups.models.checks import one_of
from ipt_groups.models.types import UTCDateTime, utcnow

SESSION_STATUSES = ("scheduled", "held", "cancelled")
MEETING_KINDS = ("pre_group", "mid_group", "post_group")


class Cycle(db.Model):
    """A group's cycle: the template it follows (a snapshot, so later template edits don't move it)."""

    __tablename__ = "cycles"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), unique=True)
    template_key: Mapped[str] = mapped_column(String(64))
    template: Mapped[dict] = mapped_column(JSON)
    first_date: Mapped[date] = mapped_column(Date)
    skip_dates: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GroupSession(db.Model):
    """One weekly group session: its number, phase and start, in UTC and in local wall-clock time."""

    __tablename__ = "sessions"
    __table_args__ = (UniqueConstraint("group_id", "number"), one_of("status", SESSION_STATUSES))

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    number: Mapped[int]
    phase: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    local_date: Mapped[date] = mapped_column(Date)
    local_start: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    # Bumped on every change, for the calendar feed's SEQUENCE.
    revision: Mapped[int] = mapped_column(default=0, server_default="0")
    # What members were last told of this session's time as a whole (at planning, or moved along by a
    # cancellation with shift, whose notice says "the rest move one week later"), and when: the
    # reconciler compares the current time with it (or with a later notice a member got) to tell each
    # member once per net change.
    announced_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    group = relationship("Group")


class IndividualMeeting(db.Model):
    """A one-to-one meeting of a member with the facilitator (pre-, mid- or post-group)."""

    __tablename__ = "individual_meetings"
    __table_args__ = (
        UniqueConstraint("group_id", "member_id", "kind"),
        one_of("kind", MEETING_KINDS),
        one_of("status", SESSION_STATUSES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    moved_by_hand: Mapped[bool] = mapped_column(default=False)
    revision: Mapped[int] = mapped_column(default=0, server_default="0")

    member = relationship("Member")
