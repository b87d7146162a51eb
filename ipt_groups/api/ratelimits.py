"""Rate limits: per API token on the admin API (Flask-Limiter, before the view), and per sending
number on inbound SMS, counted by the webhook only after the signature is checked (`sender_over_limit`).
Memory storage by default; RATELIMIT_STORAGE_URI=redis://... shares counts between workers."""

from __future__ import annotations

import hashlib
import logging
from functools import lru_cache

from flask import current_app, request
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse

from ipt_groups.extensions import limiter

log = logging.getLogger(__name__)


def token_or_address() -> str:
    """The caller's token (hashed, never stored in clear), or their address without one."""
    header = request.headers.get("Authorization", "")
    if header:
        return "token:" + hashlib.sha256(header.encode()).hexdigest()[:32]
    return "addr:" + (get_remote_address() or "unknown")


@lru_cache(maxsize=8)
def _item(limit: str) -> RateLimitItem:
    return parse(limit)


def sender_over_limit(sender: str) -> bool:
    """Count one signed inbound SMS against WEBHOOK_RATE_LIMIT for its sender; True when over it. A
    store that cannot be reached fails open (a WARNING is logged): the limit only ever spares
    replies, so counting nothing is safer than refusing a text."""
    try:
        return not limiter.limiter.hit(_item(current_app.config["WEBHOOK_RATE_LIMIT"]), "sms-from", sender)
    except Exception as exc:  # any store failure: redis, a timeout, a refused connection
        log.warning("rate-limit store unavailable (%s); inbound SMS not rate limited", type(exc).__name__)
        return False
