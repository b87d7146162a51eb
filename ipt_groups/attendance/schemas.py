from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ipt_groups.api.fields import Id
from ipt_groups.models.attendance import ATTENDANCE_STATUSES


class RecordArgs(Schema):
    member_id = Id(required=True)
    status = fields.Str(required=True, validate=validate.OneOf(ATTENDANCE_STATUSES))
    note = fields.Str(validate=validate.Length(max=1000), allow_none=True)


class AttendanceArgs(Schema):
    """Some or all members' attendance; members left out keep what they had."""

    records = fields.List(fields.Nested(RecordArgs), required=True, validate=validate.Length(min=1, max=100))

    @validates_schema
    def _each_member_once(self, data, **_kwargs):
        """The same member twice in one request is refused, not "last one wins"."""
        first: dict[int, int] = {}
        errors = {}
        for i, record in enumerate(data.get("records", [])):
            member_id = record["member_id"]
            if member_id in first:
                errors[str(i)] = {
                    "member_id": [f"member {member_id} is already in records[{first[member_id]}]"]
                }
            first.setdefault(member_id, i)
        if errors:
            raise ValidationError({"records": errors})


class RsvpLineSchema(Schema):
    member_id = fields.Int()
    name = fields.Str(metadata={"description": "first name and initial, as texts show it"})
    rsvp = fields.Str(metadata={"description": "confirmed (replied C), cant_come (X) or no_answer"})
    responded_at = fields.AwareDateTime(allow_none=True)


class RsvpPictureSchema(Schema):
    session_id = fields.Int()
    starts_at = fields.AwareDateTime()
    counts = fields.Dict(keys=fields.Str(), values=fields.Int())
    members = fields.List(fields.Nested(RsvpLineSchema))


class AttendanceRecordSchema(Schema):
    member_id = fields.Int()
    session_id = fields.Int(allow_none=True)
    meeting_id = fields.Int(allow_none=True)
    status = fields.Str()
    note = fields.Str(allow_none=True)
    source = fields.Str()
    recorded_by = fields.Str()
    recorded_at = fields.AwareDateTime()


class FormatArgs(Schema):
    format = fields.Str(validate=validate.OneOf(["json", "csv", "pdf"]))


class ReportArgs(Schema):
    format = fields.Str(validate=validate.OneOf(["json", "csv"]))
    group_id = Id()
    from_date = fields.Date()
    to_date = fields.Date()


class CalendarLinkSchema(Schema):
    url = fields.Str()
