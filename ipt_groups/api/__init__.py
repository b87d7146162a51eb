"""The HTTP surface: the admin API under /api/v1, health, and the Twilio webhooks."""

from flask import Flask

from ipt_groups.extensions import api


def register(app: Flask) -> None:
    """Register every blueprint."""
    from ipt_groups.api import (
        alerts,
        cycles,
        facilitators,
        groups,
        health,
        members,
        messages,
        settings,
        twilio_hooks,
    )

    app.register_blueprint(health.bp)
    app.register_blueprint(twilio_hooks.bp)
    for module in (members, facilitators, groups, cycles, messages, alerts, settings):
        api.register_blueprint(module.bp)
