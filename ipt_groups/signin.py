"""Signing in to the pages without passwords: a one-time code texted to a facilitator's or an
active coordinator's phone (through the outbox's urgent lane, never held by quiet hours), or a link a
coordinator makes with the CLI. Each is good once, for a while, checked in constant time against a
keyed hash; a code is tried at most MAX_FAILED_PER_CODE times, and a person gets at most
MAX_CODES_PER_HOUR codes. A signed-in browser is a web session row whose token only its cookie holds."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select

from ipt_groups.audit import record_change
from ipt_groups.auth import Principal
from ipt_groups.errors import InvalidInput, NotFound
from ipt_groups.extensions import db
from ipt_groups.messaging.dispatch import KindHandler
from ipt_groups.messaging.outbox import plan_once
from ipt_groups.models import Coordinator, Facilitator, Message, SignIn, WebSession

CODE_DIGITS = 6
MAX_FAILED_PER_CODE = 5
MAX_CODES_PER_HOUR = 5
MAX_FAILURES_PER_HOUR = 10
TOUCH_EVERY = timedelta(minutes=1)  # a session's last_seen_at is written at most this often
CODE_TEXT = "{programme}: your sign-in code is {code}. It expires in {minutes} minutes. Not you? Ignore this."


@dataclass(frozen=True)
class Person:
    """Someone who may sign in: a facilitator or a coordinator."""

    role: str
    id: int
    name: str

    @property
    def fields(self) -> dict:
        """The person's column on a sign-in, a web session or a message."""
        return {f"{self.role}_id": self.id}


def person_by_phone(phone: str) -> Person | None:
    """The active coordinator or the facilitator with this E.164 phone (a coordinator first: a person
    who is both signs in as the coordinator, who may see every group)."""
    coordinator = db.session.scalar(select(Coordinator).filter_by(phone=phone, active=True))
    if coordinator is not None:
        return Person("coordinator", coordinator.id, coordinator.name)
    facilitator = db.session.scalar(select(Facilitator).filter_by(phone=phone))
    return Person("facilitator", facilitator.id, facilitator.name) if facilitator else None


def person_by_id(role: str, person_id: int) -> Person:
    """The facilitator or the active coordinator with this id (NotFound naming the option otherwise)."""
    row = db.session.get(Coordinator if role == "coordinator" else Facilitator, person_id)
    if row is None or getattr(row, "active", True) is False:
        raise NotFound(
            f"no {'active ' if role == 'coordinator' else ''}{role} {person_id}", {role: ["not found"]}
        )
    return Person(role, row.id, row.name)


def _person(row: SignIn | WebSession) -> Person | None:
    """The person a sign-in or a session is for, if they may still sign in."""
    if row.role == "coordinator":
        coordinator = db.session.get(Coordinator, row.coordinator_id)
        ok = coordinator is not None and coordinator.active
        return Person("coordinator", coordinator.id, coordinator.name) if ok else None
    facilitator = db.session.get(Facilitator, row.facilitator_id)
    return Person("facilitator", facilitator.id, facilitator.name) if facilitator else None


def _keyed(text: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _code(nonce: str) -> str:
    """The code a nonce stands for: only the holder of SECRET_KEY can derive it."""
    number = int(_keyed(f"signin-code:{nonce}")[:15], 16) % 10**CODE_DIGITS
    return f"{number:0{CODE_DIGITS}d}"


def _window(person: Person, now: datetime):
    column = getattr(SignIn, f"{person.role}_id")
    return select(SignIn).where(column == person.id, SignIn.created_at > now - timedelta(hours=1))


def _throttled(person: Person, now: datetime) -> bool:
    recent = list(db.session.scalars(_window(person, now).where(SignIn.method == "code")))
    failures = sum(r.failed_attempts for r in recent)
    return len(recent) >= MAX_CODES_PER_HOUR or failures >= MAX_FAILURES_PER_HOUR


def _sign_in(
    person: Person,
    method: str,
    secret: str,
    by: str,
    now: datetime,
    lasts: timedelta,
    nonce: str | None = None,
) -> SignIn:
    row = SignIn(
        method=method,
        role=person.role,
        nonce=nonce,
        secret_hash=secret,
        requested_by=by[:200],
        created_at=now,
        expires_at=now + lasts,
        failed_attempts=0,
        **person.fields,
    )
    db.session.add(row)
    db.session.flush()
    return row


def request_code(phone: str, address: str, now: datetime) -> SignIn | None:
    """Text a one-time code to the person with this phone; None if nobody has it or they asked too
    often (the caller tells everyone the same, so the page reveals no phone). The caller commits."""
    person = person_by_phone(phone)
    if person is None or _throttled(person, now):
        return None
    minutes = current_app.config["SIGNIN_CODE_MINUTES"]
    nonce = secrets.token_hex(16)
    secret = _keyed(f"code:{nonce}:{_code(nonce)}")
    row = _sign_in(person, "code", secret, address, now, timedelta(minutes=minutes), nonce)
    plan_once(
        {
            "dedupe_key": f"signin{row.id}:code",
            "kind": "signin_code",
            "due_at": now,
            "deadline_at": row.expires_at,
            "created_at": now,
            "context": {"sign_in_id": row.id, "minutes": minutes},
            **person.fields,
        }
    )
    return row


def check_code(nonce: str | None, code: str, now: datetime) -> SignIn | None:
    """The sign-in whose code request made `nonce`, now used, if `code` is its code, unexpired and
    unused; a wrong code counts against it (the caller commits either way)."""
    query = select(SignIn).where(SignIn.nonce == str(nonce), SignIn.method == "code").with_for_update()
    row = db.session.scalar(query) if nonce else None
    if row is None:
        return None
    if row.used_at is not None or row.expires_at <= now or row.failed_attempts >= MAX_FAILED_PER_CODE:
        return None
    if not hmac.compare_digest(row.secret_hash, _keyed(f"code:{row.nonce}:{code.strip()}")):
        row.failed_attempts += 1
        return None
    row.used_at = now
    return row


def create_link(person: Person, hours: int, actor: str, now: datetime) -> tuple[SignIn, str]:
    """A sign-in link's row and its token (shown once, stored only as a keyed hash)."""
    if not 1 <= hours <= 168:
        raise InvalidInput("a link lasts 1 to 168 hours", {"hours": [f"{hours} is out of range"]})
    token = secrets.token_urlsafe(32)
    row = _sign_in(person, "link", _keyed(f"link:{token}"), actor, now, timedelta(hours=hours))
    record_change(actor, "signin_link.create", row, None, {"role": person.role, "person": person.id})
    return row, token


def check_link(token: str, now: datetime) -> SignIn | None:
    """The link's sign-in, now used, if it is unexpired and unused."""
    query = select(SignIn).where(SignIn.method == "link", SignIn.secret_hash == _keyed(f"link:{token}"))
    row = db.session.scalar(query.with_for_update())
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    row.used_at = now
    return row


def start_session(sign_in: SignIn, now: datetime) -> tuple[WebSession, str] | None:
    """A web session for the person a used sign-in is for (None if they may no longer sign in);
    the token goes in the cookie, its hash in the row."""
    person = _person(sign_in)
    if person is None:
        return None
    token = secrets.token_urlsafe(32)
    hours = current_app.config["WEB_SESSION_HOURS"]
    row = WebSession(
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        role=person.role,
        name=person.name,
        sign_in_id=sign_in.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=hours),
        **person.fields,
    )
    db.session.add(row)
    db.session.flush()
    record_change(f"{person.role}:{person.name}", f"signin.{sign_in.method}", row, None, {"session": row.id})
    return row, token


def _session(token: str | None) -> WebSession | None:
    if not token:
        return None
    digest = hashlib.sha256(token.encode()).hexdigest()
    return db.session.scalar(select(WebSession).where(WebSession.token_hash == digest))


def session_principal(token: str | None, now: datetime) -> Principal | None:
    """Who a browser's session token acts as, or None once it ended, expired or sat idle for
    WEB_IDLE_MINUTES; marks it seen (at most once a minute: the caller commits)."""
    row = _session(token)
    idle = timedelta(minutes=current_app.config["WEB_IDLE_MINUTES"])
    if row is None or row.ended_at is not None or row.expires_at <= now or row.last_seen_at + idle <= now:
        return None
    person = _person(row)
    if person is None:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return Principal(row.role, person.name, row.facilitator_id, None, row.coordinator_id, row.id)


def end_session(token: str | None, now: datetime) -> None:
    """Sign out: the session stops working at once (the caller commits)."""
    row = _session(token)
    if row is not None and row.ended_at is None:
        row.ended_at = now


def forget_person(role: str, person_id: int) -> None:
    """Delete a person's sign-ins, sessions and sign-in texts (which hold no code): they are being
    removed."""
    texts = (getattr(Message, f"{role}_id") == person_id, Message.kind == "signin_code")
    db.session.execute(delete(Message).where(*texts).execution_options(synchronize_session=False))
    sessions = getattr(WebSession, f"{role}_id") == person_id
    db.session.execute(delete(WebSession).where(sessions).execution_options(synchronize_session=False))
    sign_ins = getattr(SignIn, f"{role}_id") == person_id
    db.session.execute(delete(SignIn).where(sign_ins).execution_options(synchronize_session=False))


def _compose(message: Message, now: datetime) -> str:
    row = db.session.get(SignIn, message.context["sign_in_id"])
    programme = current_app.config["PROGRAMME_NAME"]
    return CODE_TEXT.format(programme=programme, code=_code(row.nonce), minutes=message.context["minutes"])


def _preview(message: Message) -> str:
    programme = current_app.config["PROGRAMME_NAME"]
    return CODE_TEXT.format(programme=programme, code="******", minutes=message.context["minutes"])


# The code is derived when the text goes and never kept: the outbox keeps the preview.
KINDS = {"signin_code": KindHandler(compose=_compose, preview=_preview, secret=True)}
