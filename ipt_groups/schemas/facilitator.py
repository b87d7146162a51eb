from marshmallow import Schema, fields, post_load, validate

from ipt_groups.schemas.fields import Availability, Language, Phone, Timezone
from ipt_groups.vocabulary import PROBLEM_AREAS


class FacilitatorSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    phone = fields.Str()
    email = fields.Str()
    timezone = fields.Str()
    languages = fields.List(fields.Str())
    availability = fields.List(fields.Dict())
    problem_areas = fields.List(fields.Str())
    max_groups = fields.Int()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class FacilitatorArgs(Schema):
    """A facilitator; `problem_areas` empty means they lead any."""

    name = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    phone = Phone(required=True)
    email = fields.Email(required=True, validate=validate.Length(max=254))
    timezone = Timezone(required=True)
    languages = fields.List(Language(), required=True, validate=validate.Length(min=1))
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
