from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ipt_groups.schemas.fields import Availability, JsonBool, Language, Phone, Timezone
from ipt_groups.vocabulary import AGE_BANDS, MEMBER_STATUSES, PROBLEM_AREAS

_name = validate.Length(min=1, max=200)


class MemberSchema(Schema):
    id = fields.Int()
    name = fields.Str()
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


class MemberArgs(Schema):
    """A new member on the waitlist."""

    name = fields.Str(required=True, validate=_name)
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


class ImportArgs(Schema):
    dry_run = fields.Bool(load_default=False)


class ImportResultSchema(Schema):
    dry_run = fields.Bool()
    rows = fields.Int(metadata={"description": "valid rows in the file"})
    created = fields.Int()
    members = fields.List(fields.Nested(MemberSchema))
