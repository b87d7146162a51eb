from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ipt_groups.extensions import db
from ipt_groups.models.checks import one_of
from ipt_groups.models.types import UTCDateTime, utcnow
from ipt_groups.vocabulary import ROLES


class ApiToken(db.Model):
    """A bearer token, stored only as its SHA-256 hash; facilitator tokens name their facilitator,
    coordinator tokens may name their coordinator. It may expire, and shows when it was last used."""

    __tablename__ = "api_tokens"
    __table_args__ = (one_of("role", ROLES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    facilitator_id: Mapped[int | None] = mapped_column(ForeignKey("facilitators.id"))
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("coordinators.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # none: until revoked
    # Written at most once a minute per token (auth.py), not on every request.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
