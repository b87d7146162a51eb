"""The safety lane's wake-up: planning a safety text sends a PostgreSQL NOTIFY in the planning
transaction (delivered on commit, dropped on rollback); the scheduler listens on a connection of
its own and dispatches at once. On SQLite there is no wake-up: the tick is the mechanism."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import URL

from ipt_groups.extensions import db

log = logging.getLogger(__name__)
CHANNEL = "ipt_safety"


def wake_dispatcher(payload: str = "") -> None:
    """Ask a listening scheduler to dispatch safety texts once this transaction commits."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload}
        )


class SafetyListener(threading.Thread):
    """LISTEN on a connection of its own; call `on_wake(payload)` for every notification, and
    `on_wake(None)` after each (re)connection, since a notification sent while it was away is lost.
    Reconnects until stopped."""

    def __init__(
        self, url: URL, on_wake: Callable[[str | None], None], poll_s: float = 1.0, retry_s: float = 5.0
    ):
        super().__init__(name="safety-listener", daemon=True)
        self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.on_wake, self.poll_s, self.retry_s = on_wake, poll_s, retry_s
        self.stopping, self.listening = threading.Event(), threading.Event()

    def run(self) -> None:
        import psycopg  # here: only a PostgreSQL deployment has a listener

        while not self.stopping.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    self._wake(None)
                    self._listen(conn)
            except psycopg.Error:
                log.warning("safety listener lost its connection; the tick covers until it is back")
            self.listening.clear()
            self.stopping.wait(self.retry_s)

    def _listen(self, conn) -> None:
        while not self.stopping.is_set():
            for notify in conn.notifies(timeout=self.poll_s, stop_after=1):
                self._wake(notify.payload)

    def _wake(self, payload: str | None) -> None:
        try:
            self.on_wake(payload)
        except Exception:
            log.exception("safety dispatch after a wake-up failed; the tick will try again")

    def stop(self) -> None:
        """Stop listening (within `poll_s`)."""
        self.stopping.set()
