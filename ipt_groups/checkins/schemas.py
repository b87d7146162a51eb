from marshmallow import Schema, ValidationError, fields, post_dump, validate, validates_schema

from ipt_groups.api.fields import Id
from ipt_groups.checkins.instruments import reported_score
from ipt_groups.models.survey import ALERT_KINDS

_SCORE_NOTE = "null unless every item was answered (see partial_score and missing_items)"


class CheckinSchema(Schema):
    id = fields.Int()
    member_id = fields.Int()
    group_id = fields.Int(allow_none=True)
    session_id = fields.Int(allow_none=True)
    occasion = fields.Str()
    instrument = fields.Str()
    answers = fields.List(fields.Int(allow_none=True))
    status = fields.Str()
    started_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime()
    completed_at = fields.AwareDateTime(allow_none=True)
    score = fields.Int(allow_none=True, metadata={"description": _SCORE_NOTE})
    partial_score = fields.Int(allow_none=True)
    missing_items = fields.List(fields.Int())
    band = fields.Str(allow_none=True)
    complete = fields.Bool()

    @post_dump(pass_original=True)
    def _reported(self, data, checkin, **_kwargs):
        return {**data, **reported_score(checkin.instrument, checkin.answers)}


class CheckinQueryArgs(Schema):
    member_id = Id()
    group_id = Id()
    session_id = Id()


class ScorePointSchema(Schema):
    checkin_id = fields.Int()
    taken_at = fields.AwareDateTime()
    occasion = fields.Str()
    instrument = fields.Str()
    score = fields.Int(allow_none=True, metadata={"description": _SCORE_NOTE})
    partial_score = fields.Int(allow_none=True)
    missing_items = fields.List(fields.Int())
    band = fields.Str(allow_none=True)
    complete = fields.Bool()


class ScoresSchema(Schema):
    member_id = fields.Int()
    points = fields.List(fields.Nested(ScorePointSchema))
    phq9_baseline = fields.Int(allow_none=True)
    phq9_latest = fields.Int(allow_none=True)
    response = fields.Dict(allow_none=True)


class AlertSchema(Schema):
    """An alert; `notified` lists who was told, at which escalation level and when, each with its
    text's fate read from the outbox (state, sent_at, delivery_status, delivered). `phone` is the
    number to call, shown only to coordinators and the group's facilitator (each read is logged)."""

    id = fields.Int()
    kind = fields.Str()
    member_id = fields.Int(allow_none=True)
    group_id = fields.Int(allow_none=True)
    session_id = fields.Int(allow_none=True)
    phone = fields.Method("_phone", allow_none=True)
    detail = fields.Method("_detail")
    notified = fields.Method("_notified")
    delivery = fields.Method("_delivery")
    escalation_level = fields.Int()
    next_escalation_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    acknowledged_at = fields.AwareDateTime(allow_none=True)
    acknowledged_by = fields.Str(allow_none=True)

    def _phone(self, alert) -> str | None:
        return getattr(alert, "revealed_phone", None)

    def _detail(self, alert) -> dict:
        # A stranger's number is shown as `phone`, where reading it is logged, not in the detail.
        return {k: v for k, v in (alert.detail or {}).items() if k != "from_phone"}

    def _notified(self, alert) -> list[dict]:
        return alert.deliveries

    def _delivery(self, alert) -> dict:
        told = alert.deliveries
        return {
            "told": len(told),
            "accepted": sum(1 for d in told if d["state"] == "sent"),
            "delivered": sum(1 for d in told if d["delivered"] is True),
            "waiting": sum(1 for d in told if d["state"] in ("pending", "sending")),
            "undelivered": sum(1 for d in told if d["delivered"] is False),
        }


class AlertQueryArgs(Schema):
    kind = fields.Str(validate=validate.OneOf(ALERT_KINDS))
    group_id = Id()
    member_id = Id()
    include_acknowledged = fields.Bool(load_default=False)


class AckArgs(Schema):
    note = fields.Str(validate=validate.Length(max=1000))


class OutcomeArgs(Schema):
    """Which groups the outcomes report covers: one group, one facilitator's, cycles started between
    two dates (inclusive); `format` json (default) or csv (or the Accept header)."""

    group_id = Id()
    facilitator_id = Id()
    from_date = fields.Date()
    to_date = fields.Date()
    format = fields.Str(validate=validate.OneOf(["json", "csv"]))

    @validates_schema
    def dates_in_order(self, data, **kwargs):
        """from_date may not come after to_date."""
        if "from_date" in data and "to_date" in data and data["from_date"] > data["to_date"]:
            raise ValidationError("comes after to_date", "from_date")
