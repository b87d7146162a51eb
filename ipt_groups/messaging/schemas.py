"""The outbox as the API shows it: messages and the filters to list them."""

from marshmallow import Schema, fields, validate

from ipt_groups.api.fields import Id


class MessageSchema(Schema):
    id = fields.Int()
    kind = fields.Str()
    state = fields.Str()
    member_id = fields.Int(allow_none=True)
    facilitator_id = fields.Int(allow_none=True)
    group_id = fields.Int(allow_none=True)
    session_id = fields.Int(allow_none=True)
    meeting_id = fields.Int(allow_none=True)
    due_at = fields.AwareDateTime()
    deadline_at = fields.AwareDateTime(allow_none=True)
    sent_at = fields.AwareDateTime(allow_none=True)
    attempts = fields.Int()
    reason = fields.Str(allow_none=True)
    body = fields.Str(allow_none=True)
    segments = fields.Int(
        allow_none=True,
        metadata={"description": "SMS segments the body costs (GSM-7 or UCS-2), once composed"},
    )
    delivery_status = fields.Str(allow_none=True)


class MessageQueryArgs(Schema):
    member_id = Id()
    group_id = Id()
    session_id = Id()
    state = fields.Str(
        validate=validate.OneOf(
            ["pending", "sending", "sent", "failed", "cancelled", "expired", "suppressed", "unknown"]
        )
    )
    kind = fields.Str(validate=validate.Length(max=32))
