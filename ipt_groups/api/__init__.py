"""The HTTP surface: the admin API under /api/v1, health, and the Twilio webhooks."""

from flask import Flask, current_app
from werkzeug.routing import IntegerConverter

from ipt_groups.api.fields import MAX_ID
from ipt_groups.api.ratelimits import token_or_address
from ipt_groups.extensions import api, limiter


class IdConverter(IntegerConverter):
    """`<int:...>` in routes: at most MAX_ID, so a larger id matches no route (404), not a 500."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def register(app: Flask) -> None:
    """Register every blueprint."""
    from ipt_groups.api import access_log, apidoc, health, monitoring
    from ipt_groups.attendance import api as attendance
    from ipt_groups.checkins import api as checkins
    from ipt_groups.checkins import screening_api, webhooks
    from ipt_groups.cycles import api as cycles
    from ipt_groups.formation import api as formation
    from ipt_groups.formation import intake_api
    from ipt_groups.groups import api as groups
    from ipt_groups.messaging import api as messaging
    from ipt_groups.people import api as people
    from ipt_groups.settings import api as settings

    app.url_map.converters["int"] = IdConverter
    apidoc.install(api.spec)
    app.after_request(apidoc.docs_page_policy)
    # Webhooks are never limited before their signature is checked: the view counts per sender after it.
    limiter.exempt(webhooks.bp)
    monitoring.install(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(webhooks.bp)
    # The order of registration is the order of the OpenAPI document's tags: keep it.
    blueprints = [
        people.members_bp,
        people.facilitators_bp,
        people.coordinators_bp,
        groups.bp,
        formation.bp,
        intake_api.bp,
        cycles.cycles_bp,
        cycles.meetings_bp,
        messaging.bp,
        checkins.bp,
        screening_api.bp,
        attendance.bp,
        settings.bp,
        attendance.feeds,
        access_log.bp,
    ]
    for bp in blueprints:
        _limit(bp, "API_RATE_LIMIT", token_or_address)
        api.register_blueprint(bp)


def _limit(bp, setting: str, key_func) -> None:
    """Put a configurable limit on a blueprint once, however many apps are built (tests build several)."""
    if not getattr(bp, "_rate_limited", False):
        limiter.limit(lambda: current_app.config[setting], key_func=key_func)(bp)
        bp._rate_limited = True
