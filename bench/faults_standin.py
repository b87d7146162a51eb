"""A Twilio stand-in for the fault benchmark: POST /2010-04-01/Accounts/{sid}/Messages.json answers
like Twilio (201, a unique `SM` sid, status `queued`) or with an injected fault, and records every
request and every accepted message in a SQLite file of its own, so the counts survive whatever
happens to the scheduler.

Faults, drawn per request from a seeded generator:
- `500` / `429`: Twilio's JSON error body (20500 / 20429); nothing is accepted.
- `late_accept`: the message is accepted and recorded, then the answer waits past the client's
  timeout: the sender sees a read timeout, the outbox marks the row `unknown`.
- `late_reject`: the answer waits past the timeout and is then a 500; nothing was accepted.
- numbers in `bad_numbers` are refused with 400 / 21211 (invalid 'To'), a permanent failure.
"""

from __future__ import annotations

import json
import random
import re
import socket
import sqlite3
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/Messages\.json$")
SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY, received_at REAL, to_phone TEXT, outcome TEXT, sid TEXT
);
CREATE TABLE IF NOT EXISTS accepted (
    sid TEXT PRIMARY KEY, received_at REAL, to_phone TEXT, body TEXT, sender TEXT,
    status_callback TEXT, late INTEGER
);
"""
ERRORS = {
    500: (20500, "Internal Server Error"),
    429: (20429, "Too Many Requests"),
    400: (21211, "The 'To' number is not a valid phone number."),  # bad_numbers
}


@dataclass
class Faults:
    """What share of requests fails, and how."""

    p500: float = 0.10
    p429: float = 0.10
    p_late_accept: float = 0.01
    p_late_reject: float = 0.005
    late_s: float = 1.5  # longer than the client's TWILIO_TIMEOUT_S
    latency_s: float = 0.0  # every answer takes this long (a real provider's ~200 ms)
    bad_numbers: frozenset[str] = frozenset()
    seed: int = 1

    def draw(self, rng: random.Random) -> str:
        roll = rng.random()
        for outcome, p in (
            ("500", self.p500),
            ("429", self.p429),
            ("late_accept", self.p_late_accept),
            ("late_reject", self.p_late_reject),
        ):
            if roll < p:
                return outcome
            roll -= p
        return "accept"


@dataclass
class Ledger:
    """The stand-in's own record, in SQLite (one connection, serialised by a lock)."""

    path: str
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(SCHEMA)

    def request(self, to: str, outcome: str, sid: str | None = None) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO requests (received_at, to_phone, outcome, sid) VALUES (?, ?, ?, ?)",
                (time.time(), to, outcome, sid),
            )

    def accept(self, form: dict, late: bool) -> str:
        sid = "SM" + uuid.uuid4().hex
        sender = form.get("MessagingServiceSid") or form.get("From") or ""
        with self._lock:
            self._conn.execute(
                "INSERT INTO accepted VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    sid,
                    time.time(),
                    form.get("To"),
                    form.get("Body"),
                    sender,
                    form.get("StatusCallback"),
                    late,
                ),
            )
        return sid

    def accepted(self) -> list[tuple]:
        with self._lock:
            return self._conn.execute(
                "SELECT sid, received_at, to_phone, body FROM accepted ORDER BY received_at"
            ).fetchall()

    def outcomes(self) -> dict[str, int]:
        with self._lock:
            return dict(self._conn.execute("SELECT outcome, count(*) FROM requests GROUP BY outcome"))

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a killed client: expected here
            super().handle_error(request, client_address)


class StandIn:
    """The server on 127.0.0.1, in a thread of the harness; `url` is what TWILIO_API_URL is set to."""

    def __init__(self, ledger: Ledger, faults: Faults, port: int = 0) -> None:
        self.ledger, self.faults = ledger, faults
        self.rng, self._rng_lock = random.Random(faults.seed), threading.Lock()
        self.server = _Server(("127.0.0.1", port), _handler_for(self))
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, name="twilio-standin", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> StandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def outcome_for(self, to: str) -> str:
        if to in self.faults.bad_numbers:
            return "400"
        with self._rng_lock:
            return self.faults.draw(self.rng)


def _handler_for(standin: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body are two writes: without this, Nagle and delayed ACKs add 40 ms.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if len(raw) < length:  # the client died mid-request (SIGKILL): nothing to answer
                standin.ledger.request("", "aborted")
                self.close_connection = True
                return
            form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            match = MESSAGES_PATH.match(self.path.split("?")[0])
            if not match or not self.headers.get("Authorization", "").startswith("Basic "):
                self._json(404 if not match else 401, _error(20404 if not match else 20003, "no", 404))
                return
            self._create(match.group(1), form)

        def do_GET(self) -> None:  # noqa: N802
            self._json(200, {"ok": True})

        def _create(self, account: str, form: dict) -> None:
            to = form.get("To", "")
            if not to or not form.get("Body"):
                standin.ledger.request(to, "400")
                self._json(400, _error(21602 if to else 21604, "'To' and 'Body' are required", 400))
                return
            outcome = standin.outcome_for(to)
            if standin.faults.latency_s:
                time.sleep(standin.faults.latency_s)
            if outcome in ("accept", "late_accept"):
                sid = standin.ledger.accept(form, late=outcome == "late_accept")
                standin.ledger.request(to, outcome, sid)
                if outcome == "late_accept":
                    time.sleep(standin.faults.late_s)
                self._json(201, _message(account, sid, form))
                return
            standin.ledger.request(to, outcome)
            if outcome == "late_reject":
                time.sleep(standin.faults.late_s)
                outcome = "500"
            code, message = ERRORS[int(outcome)]
            self._json(int(outcome), _error(code, message, int(outcome)))

        def _json(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (its timeout): what was accepted stays accepted

        def log_message(self, format: str, *args) -> None:  # noqa: A002
            pass

    return Handler


def _message(account: str, sid: str, form: dict) -> dict:
    now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
    return {
        "sid": sid,
        "account_sid": account,
        "to": form.get("To"),
        "from": form.get("From"),
        "messaging_service_sid": form.get("MessagingServiceSid"),
        "body": form.get("Body"),
        "status": "queued",
        "num_segments": "1",
        "direction": "outbound-api",
        "api_version": "2010-04-01",
        "date_created": now,
        "date_updated": now,
        "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
    }


def _error(code: int, message: str, status: int) -> dict:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
