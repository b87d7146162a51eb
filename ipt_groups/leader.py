"""Which scheduler process does the work that must run once (expiry, closing check-ins, escalations,
the leader's heartbeat, recovery of dead processes' claims): the one holding a lock, tried every tick
interval by every process, so another takes it within two ticks when the holder dies.

PostgreSQL: a session-level advisory lock on a connection of its own; the server frees it the moment
the holder's connection ends (a killed process at once; a machine that vanished once TCP keepalives,
set short on that session, give up). SQLite: an exclusive file lock beside the database, freed by
the kernel when the holder exits (one machine only, as SQLite is)."""

from __future__ import annotations

import fcntl
import logging
import os

from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ipt_groups.extensions import db

log = logging.getLogger(__name__)
ADVISORY_LOCK_KEY = 0x1F7_6090  # any constant shared by every scheduler of this database
# The lock's session notices a vanished peer within about idle + interval x count seconds.
_KEEPALIVES = {"tcp_keepalives_idle": 5, "tcp_keepalives_interval": 2, "tcp_keepalives_count": 3}


class Leadership:
    """The lock, held for as long as this process keeps it; `hold()` is called every tick interval."""

    _HELD = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = :k "
        "AND objsubid = 1 AND pid = pg_backend_pid() AND granted"
    )

    def __init__(self, app: Flask):
        self.app, self.conn, self.handle, self.held = app, None, None, False
        with app.app_context():
            self.advisory = db.engine.dialect.name == "postgresql"

    def hold(self) -> bool:
        """Whether this process leads now: keep the lock if it is still ours, else try to take it.
        A database that does not answer means not leading (the work waits; nothing runs twice)."""
        try:
            self.held = self._advisory() if self.advisory else self._file()
        except DBAPIError:
            log.warning("cannot reach the database to check the scheduler lock; not leading")
            self._drop_connection()
            self.held = False
        return self.held

    def _advisory(self) -> bool:
        if self.held and self._still_held():
            return True
        if self.held:
            log.warning("the scheduler lock's connection was lost; trying to take the lock again")
            self._drop_connection()
        if self.conn is None:
            self.conn = self._connect()
        taken = self.conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}).scalar()
        self.conn.commit()  # a session-level lock outlives the transaction
        return bool(taken)

    def _still_held(self) -> bool:
        try:
            held = self.conn.execute(self._HELD, {"k": ADVISORY_LOCK_KEY}).scalar()
            self.conn.commit()
            return bool(held)
        except DBAPIError:
            return False

    def _connect(self):
        with self.app.app_context():
            conn = db.engine.connect()
        for name, value in _KEEPALIVES.items():
            conn.execute(text(f"SET {name} = {int(value)}"))
        conn.commit()
        return conn

    def _file(self) -> bool:
        if self.held:
            return True
        if self.handle is None:
            self.handle = open(self._lock_path(), "w")  # noqa: SIM115  (kept open: the lock lives with it)
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _lock_path(self) -> str:
        """Beside the SQLite file, so that two databases (a test's, the demo's) never share a lock."""
        with self.app.app_context():
            database = db.engine.url.database
        if database and database != ":memory:":
            return f"{os.path.abspath(database)}.scheduler-lock"
        return os.path.join(self.app.instance_path, "scheduler.lock")

    def release(self) -> None:
        """Give the lock back (a dead connection has already given it back)."""
        if self.conn is not None and self.held:
            try:
                self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
                self.conn.commit()
            except DBAPIError:
                pass
        self._drop_connection()
        if self.handle is not None:
            self.handle.close()  # closing the file frees its lock
            self.handle = None
        self.held = False

    def _drop_connection(self) -> None:
        if self.conn is None:
            return
        try:
            self.conn.invalidate()  # never back to the pool: it may be dead, or still hold the lock
            self.conn.close()
        except DBAPIError:
            pass
        self.conn = None
