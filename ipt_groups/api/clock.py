"""The request's `now`: the only place the API reads the real clock."""

from datetime import UTC, datetime

from flask import current_app


def now() -> datetime:
    """Aware UTC now; tests pin it with app.config["FIXED_NOW"]."""
    return current_app.config.get("FIXED_NOW") or datetime.now(UTC)
