"""Checks made when the app starts: production refuses to run half configured."""

from __future__ import annotations

from ipt_groups.availability import parse_hhmm


def config_problems(config) -> list[str]:
    """What is missing or wrong in the configuration for its environment."""
    problems = []
    if config.get("ENV_NAME") == "production" and not config.get("SQLALCHEMY_DATABASE_URI"):
        problems.append("DATABASE_URL is required in production")
    if config.get("ENV_NAME") == "production" and not config.get("CALENDAR_FEED_SECRET"):
        problems.append("CALENDAR_FEED_SECRET is required in production")
    problems += _quiet_hours_problems(config.get("QUIET_HOURS", ""))
    if config.get("SMS_BACKEND") not in ("console", "twilio"):
        problems.append(f"SMS_BACKEND={config.get('SMS_BACKEND')!r} is not console or twilio")
    if config.get("SMS_BACKEND") == "twilio":
        problems += _twilio_problems(config)
    return problems


def _quiet_hours_problems(text: str) -> list[str]:
    start, sep, end = text.partition("-")
    try:
        parse_hhmm(start.strip()), parse_hhmm(end.strip())
    except ValueError:
        return [f"QUIET_HOURS={text!r} is not like 21:00-08:00"]
    return [] if sep else [f"QUIET_HOURS={text!r} is not like 21:00-08:00"]


def _twilio_problems(config) -> list[str]:
    from ipt_groups.messaging.twilio import check_twilio_config

    return check_twilio_config(config)


def check_config(config) -> None:
    """Raise at start-up, naming every problem, rather than fail on the first request."""
    problems = config_problems(config)
    if problems:
        raise RuntimeError("configuration problems: " + "; ".join(problems))
