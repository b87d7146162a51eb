"""What every page goes through: the signed-in browser's principal (the same Principal an API token
gives), CSRF on every form, headers that keep pages private and assets local, and error pages."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from ipt_groups.api.clock import now
from ipt_groups.api.failures import error_body
from ipt_groups.api.failures import http_error as api_http_error
from ipt_groups.errors import DomainError, InvalidInput
from ipt_groups.extensions import db
from ipt_groups.signin import session_principal
from ipt_groups.web.blueprint import bp, csrf

log = logging.getLogger(__name__)
PUBLIC = {"web.signin", "web.signin_code", "web.signin_link", "web.static"}
# Everything the pages load comes from this server: no CDN, no font service, no analytics.
POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def is_fetch() -> bool:
    """A request made by the pages' script (it asks for a fragment or JSON, not a page)."""
    return request.headers.get("X-Requested-With") == "fetch"


@bp.before_request
def sign_in_required():
    """The principal from the session cookie; forms must carry their CSRF token; a page needs a
    signed-in browser (the sign-in pages and assets excepted)."""
    # The CSRF token is the session's: never one cached on an application context that outlived
    # another request (the test suite keeps one open across requests).
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    g.principal = session_principal(session.get("web"), now())
    if db.session.dirty:
        db.session.commit()  # the session's last_seen_at, written at most once a minute
    if request.method == "POST":
        csrf.protect()
    if g.principal is None and request.endpoint not in PUBLIC:
        if is_fetch():
            return jsonify(error_body(401, "signed out: sign in again")), 401
        return redirect(url_for("web.signin", next=request.full_path.rstrip("?")), 303)
    return None


@bp.after_request
def private_headers(response):
    """Pages hold people's data: never cached, never framed, their addresses never sent to another
    site. The referrer stays on for this site's own forms: over HTTPS the CSRF check compares it with
    this host, and a refused form goes back to the page it came from."""
    response.headers["Content-Security-Policy"] = POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "web.static":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_template_filter("local")
def local_time(instant, tz: str, fmt: str = "%a %d %b, %H:%M") -> str:
    """An instant on the wall clock of `tz` (a group's or a person's)."""
    return instant.astimezone(ZoneInfo(tz)).strftime(fmt) if instant else ""


@bp.app_template_filter("first_name")
def first_name(name: str) -> str:
    """The first word of a name: the pages show members by first name."""
    return (name or "").split(" ")[0]


@bp.context_processor
def page_context() -> dict:
    return {"who": g.get("principal")}


def safe_next(target: str | None, default: str) -> str:
    """A place under /app/ on this site to go back to; anything else is the default."""
    parts = urlsplit(target or "")
    foreign = (parts.scheme or parts.netloc) and parts.netloc != request.host
    if foreign or not parts.path.startswith("/app/"):
        return default
    return parts.path + (f"?{parts.query}" if parts.query else "")


@bp.errorhandler(CSRFError)
def csrf_refused(exc: CSRFError):
    db.session.rollback()
    message = "This form has expired or did not come from this site. Reload the page and try again."
    return _page_error(400, message)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    db.session.rollback()
    data = getattr(exc, "data", None) or {}
    return _page_error(exc.code or 500, data.get("message") or exc.description or exc.name)


def not_found(exc: HTTPException):
    """A path no route matches: under /app/ a page that says so, elsewhere the API's JSON."""
    if request.path.rstrip("/") == bp.url_prefix or request.path.startswith(bp.url_prefix + "/"):
        return http_error(exc)
    return api_http_error(exc)


@bp.errorhandler(ValidationError)
def invalid_form(exc: ValidationError):
    """A form that does not pass the API's schema: refused as the API would (422, each field named)."""
    return refused(InvalidInput("the form has errors; nothing was changed", exc.normalized_messages()))


@bp.errorhandler(DomainError)
def refused(exc: DomainError):
    """A refusal (bad input, a conflict, not found): the page it came from says why; nothing changed."""
    db.session.rollback()
    if is_fetch():
        return jsonify(error_body(exc.status, exc.message, exc.errors or None)), exc.status
    back = safe_next(request.referrer, "")
    if request.method == "POST" and back:
        flash(describe(exc), "error")
        return redirect(back, 303)
    return _page_error(exc.status, describe(exc))


def describe(exc: DomainError) -> str:
    """The refusal's message and each field's reasons, as one sentence a person can read."""
    reasons = "; ".join(f"{field}: {_words(why)}" for field, why in (exc.errors or {}).items())
    return f"{exc.message}{' (' + reasons + ')' if reasons else ''}"


def _words(why) -> str:
    if isinstance(why, dict):
        return "; ".join(f"{k}: {_words(v)}" for k, v in why.items())
    if isinstance(why, list | tuple):
        return ", ".join(_words(v) for v in why)
    return str(why)


@bp.errorhandler(Exception)
def unexpected(exc: Exception):
    """A fault of ours: logged with its traceback, and a page that says so (nothing half-written)."""
    db.session.rollback()
    log.exception("unexpected error on %s %s", request.method, request.path)
    return _page_error(500, "Something went wrong on our side; it has been logged. Please try again.")


def _page_error(status: int, message: str):
    if is_fetch():
        return jsonify(error_body(status, message)), status
    return render_template("error.html", status=status, message=message), status
