"""Inbound texts the database could not take (PostgreSQL restarting, a lost connection): Twilio never
resends an inbound SMS, so each is kept on disk, one JSON line per text appended to INBOUND_SPOOL_PATH
(instance/inbound-spool.jsonl, mode 0600: it holds numbers and what members wrote), and replayed into
the database by the scheduler's tick, or `flask ipt replay-inbound`, once it answers. Replaying is
handling the text as it would have been (stored, read for crisis, acted on) at the time it came;
MessageSid makes a replay of a text already stored harmless. The reply of a replayed text is not sent:
the webhook's answer is long gone (a crisis text got the crisis line then, from the built-in lists)."""

from __future__ import annotations

import fcntl
import json
import logging
import os
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from ipt_groups.checkins.inbox import receive_sms
from ipt_groups.extensions import db
from ipt_groups.messaging.base import mask_phone
from ipt_groups.models import InboundMessage

log = logging.getLogger(__name__)


def keep(path: str, sid: str, from_phone: str, body: str, received_at: datetime, crisis_line: bool) -> bool:
    """Append one text to the spool, synced to disk; False (and an ERROR) if even that fails."""
    line = json.dumps(
        {
            "sid": sid,
            "from": from_phone,
            "body": body,
            "at": received_at.isoformat(),
            "crisis_line": crisis_line,
        }
    )
    try:
        _append(path, [line])
    except OSError:
        log.exception("inbound %s from %s: cannot be kept in %s either", sid, mask_phone(from_phone), path)
        return False
    return True


def take(path: str) -> list[dict]:
    """Every text in the spool, which is removed: a text appended meanwhile goes to a new one."""
    try:
        handle = open(path, encoding="utf-8")  # noqa: SIM115 (closed below, after the unlink)
    except FileNotFoundError:
        return []
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        lines = handle.read().splitlines()
        os.unlink(path)
    return [item for line in lines if (item := _parse(line))]


def _parse(line: str) -> dict | None:
    try:
        return json.loads(line) if line.strip() else None
    except ValueError:  # a line cut short by a crash while it was written: nothing to replay
        log.error("an unreadable line of the inbound spool was dropped (%s characters)", len(line))
        return None


def replay_spooled(now: datetime) -> int:
    """Handle every spooled text, oldest first, committing each; on a failure the rest go back to
    the spool for the next try. Returns how many were handled. (`now` is the tick's: each text is
    handled at the time it came.)"""
    path = current_app.config["INBOUND_SPOOL_PATH"]
    pending = take(path)
    for done, item in enumerate(pending):
        try:
            _replay(item)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception(
                "replaying inbound %s failed; %s texts stay spooled", item["sid"], len(pending) - done
            )
            _append(path, [json.dumps(rest) for rest in pending[done:]])
            return done
    if pending:
        log.warning("replayed %s inbound texts kept while the database was unreachable", len(pending))
    return len(pending)


def _replay(item: dict) -> None:
    if db.session.scalar(select(InboundMessage.id).filter_by(provider_id=item["sid"])) is not None:
        return  # stored after all: a commit that landed although its answer was lost
    reply = receive_sms(item["sid"], item["from"], item["body"], datetime.fromisoformat(item["at"]))
    record = db.session.scalar(select(InboundMessage).filter_by(provider_id=item["sid"]))
    note = {"replayed": True, "reply_not_sent": reply, "crisis_line_sent": item.get("crisis_line", False)}
    record.handled = {**record.handled, **note}


def _append(path: str, lines: list[str]) -> None:
    """Append under the spool's lock; if `take` removed the file meanwhile, append to a new one."""
    while True:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            if not _same_file(handle, path):
                continue
            handle.write("".join(f"{line}\n" for line in lines))
            handle.flush()
            os.fsync(handle.fileno())
            return


def _same_file(handle, path: str) -> bool:
    try:
        return os.fstat(handle.fileno()).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False
