"""Logging for the processes (wsgi.py and the scheduler command configure it; tests leave pytest's):
one JSON object per line in production, readable lines in development, every line with the id of the
request or the scheduler tick it belongs to, phone numbers masked whatever a caller wrote, and
APScheduler's per-tick chatter silenced. Message bodies are never logged."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_context: ContextVar[str] = ContextVar("log_context", default="-")
# E.164 and the digits of a national number (10 or more, as a US number is): masked to the last 4.
_PHONE = re.compile(r"(?<![\w.])(\+?)(\d{6,11})(\d{4})(?!\d)")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


@contextmanager
def log_context(request_id: str) -> Iterator[None]:
    """Tag every log line written inside the block with `request_id`."""
    token = _context.set(request_id)
    try:
        yield
    finally:
        _context.reset(token)


def bind(request_id: str):
    """Tag this context's lines from now on (a request's before_request); `unbind` with the token."""
    return _context.set(request_id)


def unbind(token) -> None:
    """Stop tagging with the id `bind` set."""
    _context.reset(token)


def redact(text: str) -> str:
    """Mask anything that looks like a phone number: '+13125551000' -> '+*******1000'."""
    return _PHONE.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)


class ContextFilter(logging.Filter):
    """Adds `request_id` to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _context.get()
        return True


class TextFormatter(logging.Formatter):
    """Development: one readable line, phones masked."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """Production: one JSON object per line (time, level, logger, message, request_id, exception)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", _context.get()),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def handler(config: Mapping, stream=None) -> logging.Handler:
    """A stream handler in the configured format (LOG_FORMAT: json or text)."""
    out = logging.StreamHandler(stream or sys.stderr)
    out.addFilter(ContextFilter())
    out.setFormatter(JsonFormatter() if config.get("LOG_FORMAT") == "json" else TextFormatter())
    return out


def configure_logging(config: Mapping, stream=None) -> None:
    """Send every logger's lines to stderr (or `stream`) in the configured format and level."""
    root = logging.getLogger()
    root.handlers[:] = [handler(config, stream)]
    root.setLevel(config.get("LOG_LEVEL") or "INFO")
    # Two INFO lines per job run ("Running job ...", "... executed successfully"): 480 an hour.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # Twilio's client writes 10-12 INFO lines per request (URL, headers, status); ours says what was sent.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
