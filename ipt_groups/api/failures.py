"""Every refusal is JSON naming the field and the reason; nothing half-written survives it."""

from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Flask, request
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from ipt_groups.errors import DomainError
from ipt_groups.extensions import db

log = logging.getLogger(__name__)
_BODY_METHODS = ("POST", "PUT", "PATCH")


def error_body(status: int, message: str, errors: dict | None = None) -> dict:
    """The shape flask-smorest uses for its own errors, so clients parse one shape."""
    body = {"code": status, "status": HTTPStatus(status).phrase, "message": message}
    if errors:
        body["errors"] = errors
    return body


def register_handlers(app: Flask) -> None:
    """Install the error handlers (the request-shape guard runs in api.access, after the token)."""
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(IntegrityError, _integrity_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, _unexpected_error)


def require_json_body():
    """API writes with a body must say Content-Type: application/json (imports take CSV); no text
    anywhere may hold a NUL character (PostgreSQL cannot store one)."""
    if not request.path.startswith("/api/v1/"):
        return None
    if has_nul(request.args) or has_nul(request.get_json(silent=True)):
        return error_body(422, "text may not contain NUL (\\u0000) characters"), 422
    if request.method not in _BODY_METHODS:
        return None
    if request.path.endswith("/import") or not request.content_length:
        return None
    if request.mimetype != "application/json":
        reason = f"is {request.mimetype or 'missing'!r}; send application/json"
        return error_body(415, "wrong content type", {"headers": {"Content-Type": [reason]}}), 415
    return None


def has_nul(value) -> bool:
    """Whether a NUL character is in any key or text of a JSON value or a MultiDict."""
    if isinstance(value, str):
        return "\x00" in value
    if hasattr(value, "items"):
        items = value.items(multi=True) if hasattr(value, "getlist") else value.items()
        return any(has_nul(k) or has_nul(v) for k, v in items)
    return isinstance(value, list) and any(map(has_nul, value))


def _domain_error(exc: DomainError):
    db.session.rollback()
    return error_body(exc.status, exc.message, {"json": exc.errors} if exc.errors else None), exc.status


def _integrity_error(exc: IntegrityError):
    db.session.rollback()
    log.warning("integrity error: %s", exc.orig.__class__.__name__)
    return error_body(409, "this conflicts with data already stored (a duplicate or a missing link)"), 409


def http_error(exc: HTTPException):
    """An HTTP error (404, 405, 429 ...) as the API's JSON body, with the headers it must keep."""
    db.session.rollback()
    data = getattr(exc, "data", {}) or {}
    errors = data.get("errors") or data.get("messages")
    body = error_body(exc.code or 500, data.get("message") or exc.description or exc.name, errors)
    return body, exc.code or 500, _kept_headers(exc)


def _kept_headers(exc: HTTPException) -> dict:
    """The exception's own headers (Allow on a 405, Retry-After ...), but not its HTML content type."""
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return headers | dict((getattr(exc, "data", None) or {}).get("headers") or {})


def _unexpected_error(exc: Exception):
    db.session.rollback()
    log.exception("unexpected error on %s %s", request.method, request.path)
    return error_body(500, "unexpected error; it has been logged"), 500
