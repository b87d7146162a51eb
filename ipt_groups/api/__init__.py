"""The HTTP surface: the admin API under /api/v1, health, and (later) Twilio webhooks."""

from flask import Flask

from ipt_groups.extensions import api


def register(app: Flask) -> None:
    """Register every blueprint."""
    from ipt_groups.api import cycles, facilitators, groups, health, members, messages

    app.register_blueprint(health.bp)
    for module in (members, facilitators, groups, cycles, messages):
        api.register_blueprint(module.bp)
