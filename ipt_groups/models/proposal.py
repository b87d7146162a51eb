from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from ipt_groups.extensions import db
from ipt_groups.models.checks import one_of
from ipt_groups.models.types import UTCDateTime, utcnow

PROPOSAL_STATUSES = ("draft", "committed", "discarded")


class GroupProposal(db.Model):
    """Groups the engine proposed from the waitlist, for a coordinator to review, edit and commit.
    `fingerprint` records when each member and facilitator last changed, so a stale proposal is
    refused at commit."""

    __tablename__ = "group_proposals"
    __table_args__ = (one_of("status", PROPOSAL_STATUSES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    document: Mapped[dict] = mapped_column(JSON)  # the planning input the engine saw
    result: Mapped[dict] = mapped_column(JSON)  # groups, unplaced, stats
    fingerprint: Mapped[dict] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    committed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    group_ids: Mapped[list] = mapped_column(JSON, default=list)
