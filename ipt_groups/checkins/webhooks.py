"""Twilio's webhooks: inbound SMS and delivery status. Every request must carry a valid
X-Twilio-Signature over the public URL; anything else gets 403 and nothing is stored or counted. Then,
for an inbound SMS: the sender's rate limit is counted, the message stored, read for words of crisis,
and acted on; the limit only ever spares replies and non-safety work."""

from __future__ import annotations

from xml.sax.saxutils import escape

from flask import Blueprint, Response, current_app, request

from ipt_groups.api.clock import now
from ipt_groups.api.ratelimits import sender_over_limit
from ipt_groups.checkins.inbox import receive_sms, record_delivery_status
from ipt_groups.extensions import db
from ipt_groups.messaging.base import mask_phone
from ipt_groups.messaging.twilio import validate_twilio_signature

bp = Blueprint("twilio", __name__, url_prefix="/twilio")


def public_url() -> str:
    """The URL Twilio signed: PUBLIC_BASE_URL plus the path; outside production without it, the
    request's own URL (behind a proxy, set TRUSTED_PROXIES so it is rebuilt). Production always
    checks against PUBLIC_BASE_URL, which it requires at start, never a host the request names."""
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    if not base and current_app.config.get("ENV_NAME") != "production":
        return request.url
    query = request.query_string.decode("latin-1")
    return f"{base}{request.path}" + (f"?{query}" if query else "")


@bp.before_request
def check_signature():
    """403 for a missing or wrong signature, before anything is read or stored."""
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    signature = request.headers.get("X-Twilio-Signature", "")
    params = request.form.to_dict()
    if not token or not signature or not validate_twilio_signature(token, public_url(), params, signature):
        current_app.logger.warning("rejected unsigned webhook from %s", request.remote_addr)
        return _twiml(None, 403)
    return None


def _field(name: str) -> str:
    """A form field without NUL characters, which PostgreSQL cannot store or even compare."""
    return request.form.get(name, "").replace("\x00", "")


def _twiml(text: str | None, status: int = 200) -> Response:
    inner = f"<Message>{escape(text)}</Message>" if text else ""
    xml = f'<?xml version="1.0" encoding="UTF-8"?><Response>{inner}</Response>'
    return Response(xml, status=status, mimetype="text/xml")


@bp.post("/sms")
def inbound_sms():
    """An SMS from a member (or anyone): handled once per MessageSid, answered with TwiML."""
    sid, sender = _field("MessageSid")[:64], _field("From")[:20]
    if not sid or not sender:
        return _twiml(None, 400)
    args = (sid, sender, _field("Body"), now())
    limited = sender_over_limit(sender)
    try:
        reply = receive_sms(*args, limited=limited)
        db.session.commit()
    except Exception:
        # Whatever broke in the rest, the message is kept and read for crisis: Twilio never resends it.
        db.session.rollback()
        current_app.logger.exception("inbound %s from %s: handling failed", sid, mask_phone(sender))
        reply = receive_sms(*args, safety_only=True)
        db.session.commit()
    current_app.logger.info("inbound %s from %s handled", sid, mask_phone(sender))
    return _twiml(reply)


@bp.post("/status")
def delivery_status():
    """A delivery status callback: recorded if it moves the message forward, ignored otherwise."""
    error_code = _field("ErrorCode")[:16] or None  # Twilio's are five digits
    record_delivery_status(_field("MessageSid"), _field("MessageStatus"), error_code, now())
    db.session.commit()
    return Response(status=204)
