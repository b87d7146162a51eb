from marshmallow import Schema, fields, validate

from ipt_groups.api.fields import Id, JsonBool, Language, LocalTime, Timezone
from ipt_groups.models.group import GROUP_STATUSES
from ipt_groups.vocabulary import DAYS, PROBLEM_AREAS


class EnrolmentSchema(Schema):
    member_id = fields.Int()
    name = fields.Str(attribute="member.name")
    joined_on = fields.Date()
    left_on = fields.Date(allow_none=True)
    left_reason = fields.Str(allow_none=True)
    late_join_override = fields.Bool()


class GroupSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    problem_area = fields.Str(allow_none=True)
    language = fields.Str()
    timezone = fields.Str()
    day = fields.Str()
    start_time = fields.Str()
    session_minutes = fields.Int()
    max_size = fields.Int()
    min_size = fields.Int(allow_none=True)
    first_session_date = fields.Date(allow_none=True)
    status = fields.Str()
    facilitator_id = fields.Int()
    members = fields.Method("current_members")
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()

    def current_members(self, group):
        return EnrolmentSchema(many=True).dump(group.current_enrolments)


class GroupArgs(Schema):
    """A group made by hand; `problem_area` null makes a mixed group; timezone defaults to the
    facilitator's."""

    name = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    problem_area = fields.Str(required=True, allow_none=True, validate=validate.OneOf(PROBLEM_AREAS))
    language = Language(required=True)
    timezone = Timezone()
    day = fields.Str(required=True, validate=validate.OneOf(DAYS))
    start_time = LocalTime(required=True)
    session_minutes = fields.Int(load_default=90, validate=validate.Range(min=30, max=180))
    max_size = fields.Int(load_default=10, validate=validate.Range(min=2, max=20))
    min_size = fields.Int(
        allow_none=True,
        validate=validate.Range(min=1, max=20),
        metadata={"description": "below it a set time before the first session, coordinators are told"},
    )
    first_session_date = fields.Date(
        allow_none=True, metadata={"description": "planned, until a cycle dates it"}
    )
    facilitator_id = Id(required=True)


class GroupQueryArgs(Schema):
    status = fields.Str(validate=validate.OneOf(GROUP_STATUSES))
    facilitator_id = Id()


class EnrolArgs(Schema):
    """Options for adding a member to a group."""

    joined_on = fields.Date()
    override_late_join = JsonBool(load_default=False)


class GroupPatchArgs(GroupArgs):
    """Changes to a group; loaded with partial=True."""
