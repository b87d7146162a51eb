from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ipt_groups.extensions import db
from ipt_groups.models.checks import one_of
from ipt_groups.models.types import UTCDateTime, utcnow
from ipt_groups.vocabulary import DAYS, PROBLEM_AREAS

GROUP_STATUSES = ("forming", "scheduled", "running", "finished", "cancelled")


class Group(db.Model):
    """A closed cohort with a weekly wall-clock slot in its own timezone."""

    __tablename__ = "groups"
    __table_args__ = (
        one_of("problem_area", PROBLEM_AREAS),
        one_of("day", DAYS),
        one_of("status", GROUP_STATUSES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    problem_area: Mapped[str | None] = mapped_column(String(32))  # None: a mixed group
    language: Mapped[str] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64))
    day: Mapped[str] = mapped_column(String(3))
    start_time: Mapped[str] = mapped_column(String(5))  # local HH:MM in `timezone`
    session_minutes: Mapped[int] = mapped_column(default=90)
    max_size: Mapped[int] = mapped_column(default=10)
    min_size: Mapped[int | None]  # below it a set time before the start, the coordinator is told
    first_session_date: Mapped[date | None] = mapped_column(Date)  # planned, before a cycle dates it
    status: Mapped[str] = mapped_column(String(16), default="forming")
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("facilitators.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    facilitator = relationship("Facilitator", lazy="joined")
    enrolments = relationship("Enrolment", back_populates="group", order_by="Enrolment.id")

    @property
    def current_enrolments(self) -> list[Enrolment]:
        """The enrolments of members who have not left, in the order they joined."""
        return [e for e in self.enrolments if e.left_on is None]

    @property
    def current_members(self) -> list:
        """The members in the group now, in the order they joined."""
        return [e.member for e in self.current_enrolments]


class Enrolment(db.Model):
    """A member's place in a group, from `joined_on` until `left_on`."""

    __tablename__ = "enrolments"
    __table_args__ = (
        # One current group per member, enforced by the database on both engines.
        Index(
            "uq_enrolments_current_member",
            "member_id",
            unique=True,
            sqlite_where=text("left_on IS NULL"),
            postgresql_where=text("left_on IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    left_reason: Mapped[str | None] = mapped_column(String(200))
    late_join_override: Mapped[bool] = mapped_column(default=False)

    group = relationship("Group", back_populates="enrolments")
    member = relationship("Member", lazy="joined")
