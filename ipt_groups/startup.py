"""Checks made when the app starts: production refuses to run half configured, or in a way that
would let a safety alert go nowhere (SMS printed, no on-call number, webhooks checked against the
wrong URL); no environment runs with a message catalogue it cannot use."""

from __future__ import annotations

import logging
import os
import secrets
from contextlib import suppress
from datetime import date, datetime
from urllib.parse import urlsplit

import phonenumbers

from ipt_groups.messaging.catalogue import CatalogueError, load_catalogues
from ipt_groups.messaging.catalogue_checks import catalogues_problems
from ipt_groups.time_of_day import parse_hhmm

log = logging.getLogger(__name__)


def config_problems(config) -> list[str]:
    """What is missing or wrong in the configuration for its environment."""
    problems = []
    if config.get("ENV_NAME") == "production" and not config.get("SQLALCHEMY_DATABASE_URI"):
        problems.append("DATABASE_URL is required in production")
    if config.get("ENV_NAME") == "production" and not config.get("CALENDAR_FEED_SECRET"):
        problems.append("CALENDAR_FEED_SECRET is required in production")
    if config.get("ENV_NAME") == "production" and len(config.get("SECRET_KEY") or "") < 32:
        problems.append("SECRET_KEY is required in production (at least 32 characters)")
    problems += _quiet_hours_problems(config.get("QUIET_HOURS", ""))
    problems += _date_format_problems(config.get("IMPORT_DATE_FORMAT") or "")
    problems += _oncall_problems(config.get("ONCALL_PHONE") or "", config.get("ENV_NAME") == "production")
    problems += _base_url_problems(config.get("PUBLIC_BASE_URL") or "")
    if config.get("ENV_NAME") == "production":
        problems += _safety_problems(config)
    if config.get("SMS_BACKEND") not in ("console", "twilio"):
        problems.append(f"SMS_BACKEND={config.get('SMS_BACKEND')!r} is not console or twilio")
    if config.get("SMS_BACKEND") == "twilio":
        problems += _twilio_problems(config)
    if config.get("CHECKIN_OPENING", "invitation") not in ("invitation", "first_item"):
        problems.append(f"CHECKIN_OPENING={config.get('CHECKIN_OPENING')!r} is not invitation or first_item")
    return problems + catalogue_problems(config)


def catalogue_problems(config) -> list[str]:
    """Catalogue files (shipped and CATALOGUE_DIRS) that cannot be read or miss a key, a placeholder,
    a keyword list ...: a text would otherwise go out broken, or in no language at all."""
    try:
        found = load_catalogues(tuple(config.get("CATALOGUE_DIRS") or ()))
    except CatalogueError as exc:
        return [f"message catalogues: {p}" for p in exc.problems]
    return [f"message catalogues: {p}" for p in catalogues_problems(found)]


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


def _base_url_problems(base: str) -> list[str]:
    """Shapes of PUBLIC_BASE_URL that no Twilio signature can ever verify against: every webhook
    would be refused (checked whenever it is set)."""
    if not base:
        return []
    parts = urlsplit(base.strip())
    if base != "".join(base.split()):
        return [
            f"PUBLIC_BASE_URL={base!r} holds spaces (an env file's trailing space?): signatures would fail"
        ]
    if "/twilio" in parts.path.lower():
        return [
            f"PUBLIC_BASE_URL={base!r} is a webhook's URL: give the base Twilio's URLs start with "
            f"({parts.scheme}://{parts.netloc}), the app adds /twilio/sms and /twilio/status"
        ]
    if parts.query or parts.fragment:
        return [f"PUBLIC_BASE_URL={base!r} has a query or fragment: signatures would fail"]
    return []


def _safety_problems(config) -> list[str]:
    """Production: SMS really sent (or a declared drill that can still read webhooks), signatures
    checked against an https URL, and a crisis line for the programme's region."""
    problems = _sms_problems(config)
    base = urlsplit(config.get("PUBLIC_BASE_URL") or "")
    if base.scheme != "https" or not base.netloc:
        problems.append(
            "PUBLIC_BASE_URL must be the https URL Twilio calls (webhook signatures are checked against it)"
        )
    region = config.get("DEFAULT_PHONE_REGION") or "US"
    if region.upper() != "US" and not config.get("CRISIS_LINE_TEXT"):
        problems.append(
            f"CRISIS_LINE_TEXT is required in production when DEFAULT_PHONE_REGION is not US ({region}): "
            "the built-in crisis-line texts name the US 988 line"
        )
    return problems


def _sms_problems(config) -> list[str]:
    if config.get("SMS_BACKEND") == "twilio":
        return []  # check_twilio_config names what Twilio lacks
    if not config.get("SMS_DRILL"):
        return [
            f"SMS_BACKEND={config.get('SMS_BACKEND')!r} sends nothing: production needs twilio "
            "(SMS_DRILL=1 allows console for a rehearsal in which no SMS may leave)"
        ]
    if not config.get("TWILIO_AUTH_TOKEN"):
        return [
            "TWILIO_AUTH_TOKEN is required in production, a drill too: without it no webhook signature "
            "verifies, and every inbound text, crisis texts too, is refused"
        ]
    return []


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


def instance_secret(instance_path: str, name: str) -> str:
    """A secret made at random once for this instance and kept in instance/NAME (owner-only), so that
    no development install shares a key anyone could compute (production sets its own)."""
    path = os.path.join(instance_path, name)
    if not os.path.exists(path):
        # Written aside, then linked into place: a process starting at the same moment (web and
        # scheduler) either wins the link or reads the winner's whole file, never a half-written one.
        draft = f"{path}.{os.getpid()}"
        with open(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
        with suppress(FileExistsError):
            os.link(draft, path)
        os.unlink(draft)
    with open(path) as kept:
        return kept.read().strip()


INSTANCE_SECRETS = {"SECRET_KEY": "secret_key", "CALENDAR_FEED_SECRET": "calendar-feed-secret"}


def fill_instance_secrets(config, instance_path: str) -> None:
    """Outside production, give each unset secret (the pages' SECRET_KEY, CALENDAR_FEED_SECRET) the
    instance's own."""
    if config.get("ENV_NAME") == "production":
        return
    for key, name in INSTANCE_SECRETS.items():
        if not config.get(key):
            config[key] = instance_secret(instance_path, name)
