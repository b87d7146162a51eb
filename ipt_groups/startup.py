"""Checks made when the app starts: production refuses to run half configured, or in a way that
would let a safety alert go nowhere (SMS printed, no on-call number, webhooks checked against the
wrong URL)."""

from __future__ import annotations

import logging
from datetime import date, datetime
from urllib.parse import urlsplit

import phonenumbers

from ipt_groups.time_of_day import parse_hhmm

log = logging.getLogger(__name__)


def config_problems(config) -> list[str]:
    """What is missing or wrong in the configuration for its environment."""
    problems = []
    if config.get("ENV_NAME") == "production" and not config.get("SQLALCHEMY_DATABASE_URI"):
        problems.append("DATABASE_URL is required in production")
    if config.get("ENV_NAME") == "production" and not config.get("CALENDAR_FEED_SECRET"):
        problems.append("CALENDAR_FEED_SECRET is required in production")
    problems += _quiet_hours_problems(config.get("QUIET_HOURS", ""))
    problems += _date_format_problems(config.get("IMPORT_DATE_FORMAT") or "")
    problems += _oncall_problems(config.get("ONCALL_PHONE") or "", config.get("ENV_NAME") == "production")
    if config.get("ENV_NAME") == "production":
        problems += _safety_problems(config)
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


def _date_format_problems(fmt: str) -> list[str]:
    """A format that writes a day and reads it back as the same day (empty: ISO dates only)."""
    sample = date(2026, 9, 14)
    try:
        ok = not fmt or datetime.strptime(sample.strftime(fmt), fmt).date() == sample  # noqa: DTZ007
    except ValueError:
        ok = False
    return [] if ok else [f"IMPORT_DATE_FORMAT={fmt!r} is not a date format such as %m/%d/%Y or %d/%m/%Y"]


def _oncall_problems(phone: str, required: bool) -> list[str]:
    if not phone:
        return ["ONCALL_PHONE is required in production: every safety alert texts it"] if required else []
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        number = None
    e164 = number and phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if number is None or not phonenumbers.is_valid_number(number) or e164 != phone:
        return [f"ONCALL_PHONE={phone!r} is not a valid phone number in E.164 form such as +13125550100"]
    return []


def _safety_problems(config) -> list[str]:
    """Production: SMS really sent (or a declared drill), and signatures checked against an https URL."""
    problems = []
    if config.get("SMS_BACKEND") != "twilio" and not config.get("SMS_DRILL"):
        problems.append(
            f"SMS_BACKEND={config.get('SMS_BACKEND')!r} sends nothing: production needs twilio "
            "(SMS_DRILL=1 allows console for a rehearsal in which no SMS may leave)"
        )
    base = urlsplit(config.get("PUBLIC_BASE_URL") or "")
    if base.scheme != "https" or not base.netloc:
        problems.append(
            "PUBLIC_BASE_URL must be the https URL Twilio calls (webhook signatures are checked against it)"
        )
    return problems


def _twilio_problems(config) -> list[str]:
    from ipt_groups.messaging.twilio import check_twilio_config

    return check_twilio_config(config)


def check_config(config) -> None:
    """Raise at start-up, naming every problem, rather than fail on the first request."""
    problems = config_problems(config)
    if problems:
        raise RuntimeError("configuration problems: " + "; ".join(problems))
    if (
        config.get("ENV_NAME") == "production"
        and config.get("SMS_DRILL")
        and config.get("SMS_BACKEND") != "twilio"
    ):
        log.warning("SMS_DRILL=1: production is running a drill; no SMS leaves, safety alerts included")
