from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from ipt_groups.extensions import db
from ipt_groups.models.types import UTCDateTime, utcnow


class Facilitator(db.Model):
    """A person who leads groups; `problem_areas` empty means any."""

    __tablename__ = "facilitators"
    __table_args__ = (CheckConstraint("max_groups >= 1", name="max_groups_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    languages: Mapped[list] = mapped_column(JSON, default=list)  # the languages their groups can meet in
    language: Mapped[str] = mapped_column(
        String(16), default="en", server_default="en"
    )  # the language of their own texts
    availability: Mapped[list] = mapped_column(JSON, default=list)
    problem_areas: Mapped[list] = mapped_column(JSON, default=list)
    max_groups: Mapped[int] = mapped_column(default=2)
    # Part of the calendar feed key: raising it revokes this facilitator's feed URL alone.
    feed_key_version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
