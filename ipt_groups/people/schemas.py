"""Members', facilitators' and coordinators' input and output schemas."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from ipt_groups.api.fields import JsonBool, Language, Phone, Timezone
from ipt_groups.messaging.languages import language_warning
from ipt_groups.people.availability import parse_window
from ipt_groups.vocabulary import AGE_BANDS, MEMBER_STATUSES, PROBLEM_AREAS

_name = validate.Length(min=1, max=200)


class Availability(fields.List):
    """Weekly windows [{"day": "mon", "start": "18:00", "end": "20:30"}], errors by index."""

    def __init__(self, **kwargs):
        super().__init__(fields.Dict(), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        items = super()._deserialize(value, attr, data, **kwargs)
        out, errors = [], {}
        for i, raw in enumerate(items):
            try:
                out.append(parse_window(raw).to_dict())
            except ValueError as exc:
                errors[i] = [str(exc)]
        if errors:
            raise ValidationError(errors)
        return out


def language_warnings(person) -> list[str]:
    """Whether the person's texts fall back to English: their language has no catalogue."""
    warning = language_warning(person.language)
    return [warning] if warning else []


_WARNINGS = {"description": "e.g. no catalogue for their language: their texts go in English"}


class MemberSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    preferred_name = fields.Str(allow_none=True)
    phone = fields.Str()
    timezone = fields.Str()
    language = fields.Str()
    gender = fields.Str(allow_none=True)
    age_band = fields.Str()
    problem_area = fields.Str()
    availability = fields.List(fields.Dict())
    sms_consent = fields.Bool()
    sms_consent_at = fields.AwareDateTime(allow_none=True)
    sms_consent_source = fields.Str(allow_none=True)
    status = fields.Str()
    waitlisted_at = fields.AwareDateTime()
    notes = fields.Str(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    warnings = fields.Function(language_warnings, metadata=_WARNINGS)


class MemberArgs(Schema):
    """A new member on the waitlist."""

    name = fields.Str(required=True, validate=_name)
    preferred_name = fields.Str(
        allow_none=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "what texts greet them by; empty: the given name"},
    )
    phone = Phone(required=True)
    timezone = Timezone(required=True)
    language = Language(required=True)
    gender = fields.Str(allow_none=True, validate=validate.Length(max=32))
    age_band = fields.Str(load_default="adult", validate=validate.OneOf(AGE_BANDS))
    problem_area = fields.Str(required=True, validate=validate.OneOf(PROBLEM_AREAS))
    availability = Availability(load_default=list)
    sms_consent = JsonBool(load_default=False)
    sms_consent_source = fields.Str(allow_none=True, validate=validate.Length(min=1, max=200))
    waitlisted_at = fields.AwareDateTime()
    notes = fields.Str(allow_none=True, validate=validate.Length(max=2000))

    @validates_schema
    def consent_has_source(self, data, **kwargs):
        """Consent to SMS is recorded with where it came from."""
        if data.get("sms_consent") and not data.get("sms_consent_source"):
            raise ValidationError("say where consent was given (a form, a call ...)", "sms_consent_source")


class MemberPatchArgs(MemberArgs):
    """Changes to a member; any subset of fields."""

    status = fields.Str(validate=validate.OneOf([s for s in MEMBER_STATUSES if s != "enrolled"]))


class MemberQueryArgs(Schema):
    status = fields.Str(validate=validate.OneOf(MEMBER_STATUSES))
    problem_area = fields.Str(validate=validate.OneOf(PROBLEM_AREAS))
    language = Language()
    no_catalogue = fields.Bool(
        metadata={"description": "true: only members whose language has no catalogue (they get English)"}
    )


class ImportArgs(Schema):
    dry_run = fields.Bool(load_default=False)


class ImportResultSchema(Schema):
    dry_run = fields.Bool()
    rows = fields.Int(metadata={"description": "valid rows in the file"})
    created = fields.Int()
    members = fields.List(fields.Nested(MemberSchema))
    warnings = fields.List(fields.Str(), metadata=_WARNINGS)


class FacilitatorSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    phone = fields.Str()
    email = fields.Str()
    timezone = fields.Str()
    languages = fields.List(fields.Str())
    language = fields.Str(metadata={"description": "the language of their own texts"})
    availability = fields.List(fields.Dict())
    problem_areas = fields.List(fields.Str())
    max_groups = fields.Int()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    warnings = fields.Function(language_warnings, metadata=_WARNINGS)


class FacilitatorArgs(Schema):
    """A facilitator; `problem_areas` empty means they lead any."""

    name = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    phone = Phone(required=True)
    email = fields.Email(required=True, validate=validate.Length(max=254))
    timezone = Timezone(required=True)
    languages = fields.List(Language(), required=True, validate=validate.Length(min=1))
    language = Language(
        validate=validate.Length(max=16),
        metadata={"description": "the language of their own texts (default: the first of `languages`)"},
    )
    availability = Availability(load_default=list)
    problem_areas = fields.List(fields.Str(validate=validate.OneOf(PROBLEM_AREAS)), load_default=list)
    max_groups = fields.Int(load_default=2, validate=validate.Range(min=1, max=20))

    @post_load
    def lower_case_email(self, data, **kwargs):
        """One address, however it was typed, so duplicates are caught."""
        if "email" in data:
            data["email"] = data["email"].lower()
        return data


class FacilitatorPatchArgs(FacilitatorArgs):
    """Changes to a facilitator; loaded with partial=True."""


class FacilitatorQueryArgs(Schema):
    no_catalogue = fields.Bool(
        metadata={"description": "true: only facilitators whose language has no catalogue (they get English)"}
    )


class CoordinatorSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    phone = fields.Str(allow_none=True)
    language = fields.Str()
    timezone = fields.Str()
    active = fields.Bool()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    warnings = fields.Function(language_warnings, metadata=_WARNINGS)


class CoordinatorArgs(Schema):
    """A person who coordinates; with a phone and active, they are texted about alerts nobody else
    can take and whenever a safety alert stays unacknowledged."""

    name = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    phone = Phone(load_default=None, allow_none=True)
    language = Language(load_default="en", validate=validate.Length(max=16))
    timezone = Timezone(required=True)
    active = JsonBool(load_default=True)


class CoordinatorPatchArgs(CoordinatorArgs):
    """Changes to a coordinator; loaded with partial=True."""
