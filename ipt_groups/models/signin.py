from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ipt_groups.extensions import db
from ipt_groups.models.checks import one_of
from ipt_groups.models.types import UTCDateTime, utcnow
from ipt_groups.vocabulary import ROLES

SIGNIN_METHODS = ("code", "link")


class SignIn(db.Model):
    """A way in to the pages, good once: a code texted to a facilitator's or coordinator's phone,
    or a link a coordinator made with the CLI. The secret itself is stored nowhere: `secret_hash` is
    what a typed code or an opened link is checked against, and a code's `nonce` is what the code is
    derived from (with SECRET_KEY) when it is texted."""

    __tablename__ = "sign_ins"
    __table_args__ = (one_of("method", SIGNIN_METHODS), one_of("role", ROLES))

    id: Mapped[int] = mapped_column(primary_key=True)
    method: Mapped[str] = mapped_column(String(8))
    role: Mapped[str] = mapped_column(String(16))
    facilitator_id: Mapped[int | None] = mapped_column(ForeignKey("facilitators.id"), index=True)
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("coordinators.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str | None] = mapped_column(String(32))
    requested_by: Mapped[str] = mapped_column(String(200))  # an address, or the CLI's actor
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_attempts: Mapped[int] = mapped_column(default=0)


class WebSession(db.Model):
    """A signed-in browser: the cookie holds a random token, this row its hash. It ends at sign-out,
    after WEB_IDLE_MINUTES without a request, or WEB_SESSION_HOURS after sign-in."""

    __tablename__ = "web_sessions"
    __table_args__ = (one_of("role", ROLES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    facilitator_id: Mapped[int | None] = mapped_column(ForeignKey("facilitators.id"), index=True)
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("coordinators.id"), index=True)
    sign_in_id: Mapped[int] = mapped_column(ForeignKey("sign_ins.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
