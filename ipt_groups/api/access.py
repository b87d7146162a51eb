"""Who may call what: one authorization layer for the API and the pages. A request's principal comes
from its bearer token (the API) or its signed-in browser (the pages, ipt_groups/web/); the same role
checks and the same scope then decide what either may see or change."""

from __future__ import annotations

from flask import g, request
from flask_smorest import abort

from ipt_groups.api.clock import now
from ipt_groups.api.failures import require_json_body
from ipt_groups.auth import Principal, authenticate


def _authenticate() -> None:
    principal = authenticate(request.headers.get("Authorization"), now())
    if principal is None:
        abort(401, message="send a valid token: 'Authorization: Bearer <token>'")
    g.principal = principal


def authenticate_request():
    """before_request for API blueprints: 401 without a valid token, then the body's content type."""
    _authenticate()
    return require_json_body()


def principal() -> Principal:
    """The authenticated caller."""
    return g.principal


def coordinator() -> Principal:
    """The caller, who must be a coordinator (403 otherwise)."""
    if not g.principal.is_coordinator:
        abort(403, message="this needs a coordinator token")
    return g.principal


def scope() -> int | None:
    """Whose groups the caller sees: None for a coordinator (every group), else their facilitator id;
    the capabilities' list operations take it."""
    who = g.principal
    return None if who.is_coordinator else who.facilitator_id


def may_see_group(facilitator_id: int) -> Principal:
    """The caller, who must coordinate or lead the group (403 otherwise)."""
    who = g.principal
    if not who.is_coordinator and who.facilitator_id != facilitator_id:
        abort(403, message="facilitators see only their own groups")
    return who


def coordinators_only():
    """before_request for coordinator-only blueprints: the token, the role, then the body's type."""
    _authenticate()
    coordinator()
    return require_json_body()


def coordinators_change():
    """before_request for blueprints that facilitators may read but only coordinators change."""
    _authenticate()
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        coordinator()
    return require_json_body()


def via() -> str:
    """The route a read came through, for the access log: method and path, never the query string."""
    return f"{request.method} {request.path}"
