"""API tokens: issued once, stored hashed, revocable; a principal is who a request acts as, whether it
came with a token (the API) or a signed-in browser (the pages, signin.py)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from ipt_groups.audit import record_change, snapshot
from ipt_groups.errors import InvalidInput, NotFound
from ipt_groups.extensions import db
from ipt_groups.models import ApiToken, Coordinator, Facilitator


@dataclass(frozen=True)
class Principal:
    """Who a request or command acts as."""

    role: str
    name: str
    facilitator_id: int | None = None
    token_id: int | None = None
    coordinator_id: int | None = None  # the person a coordinator token names, if it names one
    session_id: int | None = None  # a signed-in browser's web session (the pages)

    @property
    def actor(self) -> str:
        via = f"#token{self.token_id}" if self.token_id else ""
        return f"{self.role}:{self.name}" + (via or (f"#web{self.session_id}" if self.session_id else ""))

    @property
    def is_coordinator(self) -> bool:
        return self.role == "coordinator"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


LAST_USE_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per token


def create_token(
    role: str,
    name: str,
    facilitator_id: int | None,
    actor: str,
    coordinator_id: int | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Issue a token; the plaintext is returned once and never stored. A coordinator token may name
    the coordinator (a person record) it belongs to; a token may expire."""
    _check_holder(role, facilitator_id, coordinator_id)
    plaintext = "ipt_" + secrets.token_urlsafe(32)
    row = ApiToken(
        role=role,
        name=name,
        facilitator_id=facilitator_id,
        coordinator_id=coordinator_id,
        token_hash=_hash(plaintext),
        expires_at=expires_at,
    )
    db.session.add(row)
    db.session.flush()
    record_change(actor, "token.create", row, None, _public(row))
    return row, plaintext


def _check_holder(role: str, facilitator_id: int | None, coordinator_id: int | None) -> None:
    if role == "facilitator" and (
        facilitator_id is None or db.session.get(Facilitator, facilitator_id) is None
    ):
        raise InvalidInput(
            "a facilitator token names an existing facilitator", {"facilitator": ["not found"]}
        )
    if role == "facilitator" and coordinator_id is not None:
        raise InvalidInput("a facilitator token names no coordinator", {"coordinator": ["not allowed"]})
    if role == "coordinator" and facilitator_id is not None:
        raise InvalidInput("a coordinator token names no facilitator", {"facilitator": ["not allowed"]})
    if coordinator_id is not None and db.session.get(Coordinator, coordinator_id) is None:
        raise InvalidInput(
            "a coordinator token names an existing coordinator", {"coordinator": ["not found"]}
        )


def revoke_token(token_id: int, actor: str, now: datetime) -> ApiToken:
    """Revoke a token; it stops working at once."""
    row = db.session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no token {token_id}")
    before = _public(row)
    row.revoked_at = row.revoked_at or now
    db.session.flush()
    record_change(actor, "token.revoke", row, before, _public(row))
    return row


def delete_tokens(where, actor: str) -> None:
    """Delete the tokens matching `where` (their holder is being removed), each audited, and flush
    so the deletes reach the database before the holder's own."""
    for token in db.session.scalars(select(ApiToken).where(where)):
        record_change(actor, "token.delete", token, {"id": token.id, "name": token.name}, None)
        db.session.delete(token)
    db.session.flush()  # no relationship tells the unit of work about the tokens' foreign key


def _public(row: ApiToken) -> dict:
    data = snapshot(row)
    data.pop("token_hash")
    return data


def authenticate(header: str | None, now: datetime) -> Principal | None:
    """The principal for an `Authorization: Bearer ...` header, or None (unknown, revoked, expired).
    Its use is recorded at most once a minute, committed at once (before the request's own work)."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(token.strip())))
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    principal = Principal(row.role, row.name, row.facilitator_id, row.id, row.coordinator_id)
    if row.last_used_at is None or row.last_used_at <= now - LAST_USE_EVERY:
        _note_use(row.id, now)
    return principal


def _note_use(token_id: int, now: datetime) -> None:
    # A compare-and-set, so that of two workers serving the same token at once only one writes.
    stale = (ApiToken.last_used_at.is_(None)) | (ApiToken.last_used_at <= now - LAST_USE_EVERY)
    db.session.execute(
        update(ApiToken).where(ApiToken.id == token_id, stale).values(last_used_at=now),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
