from marshmallow import Schema, fields, validate

from ipt_groups.schemas.fields import JsonBool, Language, Phone, Timezone


class CoordinatorSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    phone = fields.Str(allow_none=True)
    language = fields.Str()
    timezone = fields.Str()
    active = fields.Bool()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


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
