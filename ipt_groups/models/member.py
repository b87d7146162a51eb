from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, false, select
from sqlalchemy.orm import Mapped, mapped_column

from ipt_groups.extensions import db
from ipt_groups.models.checks import one_of
from ipt_groups.models.group import Enrolment
from ipt_groups.models.types import UTCDateTime, utcnow
from ipt_groups.vocabulary import AGE_BANDS, ELIGIBILITY, MEMBER_STATUSES, PROBLEM_AREAS


class Member(db.Model):
    """A person on the waitlist or in a group; reached only by SMS."""

    __tablename__ = "members"
    __table_args__ = (
        one_of("status", MEMBER_STATUSES),
        one_of("problem_area", PROBLEM_AREAS),
        one_of("age_band", AGE_BANDS),
        one_of("eligibility", ELIGIBILITY),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    preferred_name: Mapped[str | None] = mapped_column(String(100))  # greetings use it when set
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16), index=True)
    gender: Mapped[str | None] = mapped_column(String(32))
    age_band: Mapped[str] = mapped_column(String(16), default="adult")
    problem_area: Mapped[str] = mapped_column(String(32), index=True)
    availability: Mapped[list] = mapped_column(JSON, default=list)
    sms_consent: Mapped[bool] = mapped_column(default=False)
    sms_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sms_consent_source: Mapped[str | None] = mapped_column(String(200))
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # STOP: no message of any kind
    phone_problem: Mapped[str | None] = mapped_column(String(32))  # invalid_number, not_mobile
    status: Mapped[str] = mapped_column(String(16), default="waitlisted", index=True)
    waitlisted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    notes: Mapped[str | None] = mapped_column(String(2000))
    # Intake screening: None has not been screened here (a programme that screened before, by phone or
    # on paper); "pending" waits for an SMS screen; "eligible" or "not_eligible" by the programme's rule.
    eligibility: Mapped[str | None] = mapped_column(String(16), index=True)
    needs_human: Mapped[bool] = mapped_column(default=False, server_default=false())  # item 9 above 0
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def current_enrolment(self) -> Enrolment | None:
        """The member's enrolment in a group they have not left (at most one: a unique index)."""
        return db.session.scalar(select(Enrolment).filter_by(member_id=self.id, left_on=None))
