"""Twilio's webhooks: inbound SMS and delivery status. Every request must carry a valid
X-Twilio-Signature over the public URL (or, raising an operator alert, over the URL it was sent to);
anything else gets 403 and nothing is stored or counted. Then,
for an inbound SMS: the sender's rate limit is counted, the message stored, read for words of crisis,
and acted on; the limit only ever spares replies and non-safety work."""

from __future__ import annotations

from contextlib import suppress
from xml.sax.saxutils import escape

from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import SQLAlchemyError

from ipt_groups.api.clock import now
from ipt_groups.api.ratelimits import sender_over_limit
from ipt_groups.checkins import safety, spool
from ipt_groups.checkins.alerts import raise_misdirected_alert
from ipt_groups.checkins.inbox import receive_sms, record_delivery_status
from ipt_groups.extensions import db
from ipt_groups.messaging.base import mask_phone
from ipt_groups.messaging.twilio import validate_twilio_signature

bp = Blueprint("twilio", __name__, url_prefix="/twilio")


def public_url() -> str:
    """The URL Twilio signed: PUBLIC_BASE_URL plus the path; outside production without it, the
    request's own URL (behind a proxy, set TRUSTED_PROXIES so it is rebuilt). Production always
    checks against PUBLIC_BASE_URL, which it requires at start (see check_signature for a
    signature valid only for the request's own URL)."""
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    if not base and current_app.config.get("ENV_NAME") != "production":
        return request.url
    query = request.query_string.decode("latin-1")
    return f"{base}{request.path}" + (f"?{query}" if query else "")


@bp.before_request
def check_signature():
    """403 for a missing or wrong signature, before anything is read or stored. A signature valid
    for the URL the request was made to but not for PUBLIC_BASE_URL is Twilio's own, sent to a URL
    PUBLIC_BASE_URL does not name: accepted (refusing it would lose every text, crisis texts too),
    with an ERROR and an operator alert that /healthz shows."""
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    signature = request.headers.get("X-Twilio-Signature", "")
    params = request.form.to_dict()
    if token and signature:
        if validate_twilio_signature(token, public_url(), params, signature):
            return None
        if signed_for := _signed_for_own_url(token, params, signature):
            _report_wrong_base_url(signed_for)
            return None
    current_app.logger.warning("rejected unsigned webhook from %s", request.remote_addr)
    return _twiml(None, 403)


def _signed_for_own_url(token: str, params: dict, signature: str) -> str | None:
    """The URL of this request (either scheme: a TLS proxy may hide it) if the signature is valid
    for it while PUBLIC_BASE_URL is set; None otherwise."""
    if not current_app.config.get("PUBLIC_BASE_URL"):
        return None
    url = request.url
    swapped = "https" + url[4:] if url.startswith("http:") else "http" + url[5:]
    return next((u for u in (url, swapped) if validate_twilio_signature(token, u, params, signature)), None)


def _report_wrong_base_url(signed_for: str) -> None:
    base = current_app.config["PUBLIC_BASE_URL"]
    current_app.logger.error(
        "webhook %s signed by Twilio for %s, not for PUBLIC_BASE_URL=%s: accepted; set PUBLIC_BASE_URL "
        "to the URL Twilio calls",
        request.path,
        signed_for,
        base,
    )
    try:
        raise_misdirected_alert({"signed_for": signed_for, "public_base_url": base}, now())
    except SQLAlchemyError:
        _rollback()
        current_app.logger.exception("could not record the PUBLIC_BASE_URL alert")


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
        _rollback()
        current_app.logger.exception("inbound %s from %s: handling failed", sid, mask_phone(sender))
        try:
            reply = receive_sms(*args, safety_only=True)
            db.session.commit()
        except Exception:
            _rollback()
            return _unstored(*args)
    current_app.logger.info("inbound %s from %s handled", sid, mask_phone(sender))
    return _twiml(reply)


def _unstored(sid: str, sender: str, body: str, at) -> Response:
    """Neither handling reached the database: the text is read against the lists that need no
    database (built in, CRISIS_PHRASES) and kept in the spool for replay; a crisis text still gets
    the crisis line. A 500 only if the spool failed too (Twilio then tries the Fallback URL)."""
    match = safety.detect_without_database(body)
    kept = spool.keep(current_app.config["INBOUND_SPOOL_PATH"], sid, sender, body, at, match is not None)
    current_app.logger.error(
        "inbound %s from %s not stored (database unreachable): %s%s",
        sid,
        mask_phone(sender),
        "kept in the inbound spool for replay" if kept else "NOT KEPT",
        "; words of crisis: the crisis line was sent" if match else "",
    )
    if match is not None:
        return _twiml(safety.crisis_line(match.language, database=False))
    return _twiml(None) if kept else _twiml(None, 500)


def _rollback() -> None:
    with suppress(SQLAlchemyError):  # a dead connection may refuse even this
        db.session.rollback()


@bp.post("/status")
def delivery_status():
    """A delivery status callback: recorded if it moves the message forward, ignored otherwise."""
    error_code = _field("ErrorCode")[:16] or None  # Twilio's are five digits
    record_delivery_status(_field("MessageSid"), _field("MessageStatus"), error_code, now())
    db.session.commit()
    return Response(status=204)
