from marshmallow import Schema, fields, validate

from ipt_groups.api.fields import Id
from ipt_groups.models.attendance import ATTENDANCE_STATUSES


class RecordArgs(Schema):
    member_id = Id(required=True)
    status = fields.Str(required=True, validate=validate.OneOf(ATTENDANCE_STATUSES))
    note = fields.Str(validate=validate.Length(max=1000), allow_none=True)


class AttendanceArgs(Schema):
    """Some or all members' attendance; members left out keep what they had."""

    records = fields.List(fields.Nested(RecordArgs), required=True, validate=validate.Length(min=1, max=100))


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
