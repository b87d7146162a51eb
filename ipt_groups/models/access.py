from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from ipt_groups.extensions import db
from ipt_groups.models.types import UTCDateTime, utcnow

# What a read was of: a phone on an alert, a member's scores or check-ins, an alert, an attendance sheet.
READ_SUBJECTS = ("member_phone", "sender_phone", "scores", "checkins", "alert", "attendance_sheet")


class AccessEntry(db.Model):
    """One read of personal or health data: who read what of whom, when, and through which route.
    `member_id` is a plain column, not a foreign key, so the record outlives the member's row."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    what: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[int | None] = mapped_column(index=True)
    via: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
