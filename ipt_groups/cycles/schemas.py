from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ipt_groups.api.fields import JsonBool, LocalTime


class CycleArgs(Schema):
    """Start a group's cycle."""

    template = fields.Str(load_default="ipt-g-12", validate=validate.Length(min=1, max=64))
    first_date = fields.Date(required=True)
    skip_dates = fields.List(fields.Date(), load_default=list, validate=validate.Length(max=52))


class SessionSchema(Schema):
    id = fields.Int()
    group_id = fields.Int()
    number = fields.Int()
    phase = fields.Str()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    local_date = fields.Date()
    local_start = fields.Str()
    status = fields.Str()
    cancel_reason = fields.Str(allow_none=True)


class MeetingSchema(Schema):
    id = fields.Int()
    group_id = fields.Int()
    member_id = fields.Int()
    kind = fields.Str()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    status = fields.Str()


class CycleSchema(Schema):
    id = fields.Int()
    group_id = fields.Int()
    template_key = fields.Str()
    template = fields.Dict()
    first_date = fields.Date()
    skip_dates = fields.List(fields.Str())
    sessions = fields.List(fields.Nested(SessionSchema))
    meetings = fields.List(fields.Nested(MeetingSchema))


class SessionPatchArgs(Schema):
    """Move a session (local_date and/or local_start) or cancel it (status=cancelled, optional shift)."""

    local_date = fields.Date()
    local_start = LocalTime()
    status = fields.Str(validate=validate.OneOf(["cancelled"]))
    shift = JsonBool(load_default=False)
    reason = fields.Str(validate=validate.Length(max=200))

    @validates_schema
    def one_change(self, data, **kwargs):
        """A move and a cancellation are separate requests."""
        moving = "local_date" in data or "local_start" in data
        if moving and "status" in data:
            raise ValidationError("move or cancel, not both", "status")
        if not moving and "status" not in data:
            raise ValidationError("give local_date/local_start to move, or status=cancelled", "_schema")


class TemplateSchema(Schema):
    key = fields.Str()
    name = fields.Str()
    sessions = fields.Int()
    phases = fields.List(fields.Dict())
    meetings = fields.List(fields.Dict())
    late_join_until_session = fields.Int()
    session_minutes = fields.Int()
    weekly_checkin = fields.Str()
    built_in = fields.Bool()


class TemplateArgs(Schema):
    """A coordinator's own template; checked by the cycle rules (phases cover 1..N in order)."""

    key = fields.Str(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]{1,63}$"))
    name = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    sessions = fields.Int(required=True)
    phases = fields.List(fields.Dict(), required=True)
    meetings = fields.List(fields.Dict(), load_default=list)
    late_join_until_session = fields.Int(load_default=2)
    session_minutes = fields.Int(load_default=90)
    weekly_checkin = fields.Str(load_default="phq2")
