"""Rate limits: per API token on the admin API, per sending number on the Twilio webhooks.
Memory storage by default; RATELIMIT_STORAGE_URI=redis://... shares counts between workers."""

from __future__ import annotations

import hashlib

from flask import request
from flask_limiter.util import get_remote_address


def token_or_address() -> str:
    """The caller's token (hashed, never stored in clear), or their address without one."""
    header = request.headers.get("Authorization", "")
    if header:
        return "token:" + hashlib.sha256(header.encode()).hexdigest()[:32]
    return "addr:" + (get_remote_address() or "unknown")


def sender_number() -> str:
    """The number an inbound SMS comes from (unsigned floods are refused before this counts)."""
    return "from:" + (request.form.get("From") or get_remote_address() or "unknown")
