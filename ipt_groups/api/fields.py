"""Fields for the domain's values: phones, timezones, languages, availability, local times."""

from __future__ import annotations

import re
from functools import cache
from zoneinfo import available_timezones

import phonenumbers
from flask import current_app
from marshmallow import ValidationError, fields, validate

from ipt_groups.time_of_day import parse_hhmm

MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def normalise_phone(value: str, region: str) -> str:
    """E.164 for a phone number written in any common way; raises ValueError with the reason."""
    try:
        number = phonenumbers.parse(str(value), region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{value!r} is not a phone number ({exc._msg})") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{value!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class Phone(fields.String):
    """A phone number, stored in E.164; numbers without a country code use DEFAULT_PHONE_REGION."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalise_phone(text, current_app.config["DEFAULT_PHONE_REGION"])
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class Timezone(fields.String):
    """An IANA timezone name such as America/Chicago."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if text not in _timezones():
            raise ValidationError(f"{text!r} is not an IANA timezone (e.g. America/Chicago)")
        return text


class Language(fields.String):
    """A BCP 47 language tag, lower-case primary subtag (en, es, pt-BR)."""

    PATTERN = _LANGUAGE

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not _LANGUAGE.match(text):
            raise ValidationError(f"{text!r} is not a language tag such as 'en' or 'pt-BR'")
        return text


class LocalTime(fields.String):
    """A local wall-clock time as HH:MM."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            parse_hhmm(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
        return text


class Id(fields.Integer):
    """A row id: 0 to MAX_ID, so a larger number is refused (422), not sent to the database."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate.Range(min=0, max=MAX_ID), **kwargs)


class JsonBool(fields.Boolean):
    """A JSON body's true or false; marshmallow's Boolean would also take 1, 0, "yes", "off" ..."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value
