from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ipt_groups.extensions import db
from ipt_groups.models.types import UTCDateTime


class SchedulerWorker(db.Model):
    """One scheduler process, as it last said it was alive. `beat_at` is written every tick interval
    by the process (a dead one stops writing: its claims are recovered once its beat is older than the
    lease); `ticked_at` is the start of its last tick; `leader_since` is set while it holds the lock
    and does the work that must run once (readiness reads the leader's beat)."""

    __tablename__ = "scheduler_workers"

    worker: Mapped[str] = mapped_column(String(100), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ticked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    leader_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
