"""Screens at intake: start one by SMS, record one taken by phone, override the outcome; read them."""

from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ipt_groups.access_log import record_read
from ipt_groups.api.access import coordinator, coordinators_only, via
from ipt_groups.api.clock import now
from ipt_groups.api.fields import JsonBool
from ipt_groups.checkins import screening
from ipt_groups.extensions import db
from ipt_groups.models import Member, Screening
from ipt_groups.models.intake import SCREEN_METHODS

bp = Blueprint("screenings", __name__, url_prefix="/api/v1", description="Screening at intake")
bp.before_request(coordinators_only)


class ScreeningSchema(Schema):
    id = fields.Int()
    member_id = fields.Int()
    method = fields.Str()
    outcome = fields.Str(metadata={"description": "pending, eligible, not_eligible, incomplete"})
    score = fields.Int(allow_none=True)
    item9 = fields.Int(allow_none=True)
    threshold = fields.Int(allow_none=True)
    needs_human = fields.Bool()
    reason = fields.Str(allow_none=True)
    recorded_by = fields.Str()
    created_at = fields.AwareDateTime()
    decided_at = fields.AwareDateTime(allow_none=True)
    checkin_id = fields.Int(allow_none=True)


class ScreenArgs(Schema):
    """sms: text the PHQ-9 now; phone: the nine answers (0-3) a coordinator took by phone; override:
    eligible true or false, with a reason."""

    method = fields.Str(required=True, validate=validate.OneOf(SCREEN_METHODS))
    answers = fields.List(
        fields.Int(strict=True, validate=validate.Range(min=0, max=3)), validate=validate.Length(equal=9)
    )
    eligible = JsonBool()
    reason = fields.Str(validate=validate.Length(min=1, max=500))

    @validates_schema
    def fields_for_method(self, data, **kwargs):
        """Each method names what it needs."""
        needs = {"sms": [], "phone": ["answers"], "override": ["eligible", "reason"]}
        missing = [f for f in needs[data["method"]] if f not in data]
        if missing:
            raise ValidationError({f: [f"required for {data['method']}"] for f in missing})


@bp.route("/members/<int:member_id>/screenings", methods=["POST"])
@bp.arguments(ScreenArgs)
@bp.response(201, ScreeningSchema)
def screen(data, member_id):
    """Screen a waitlisted member: by SMS (with consent), by phone, or override the outcome (audited)."""
    member, actor = Member.get_or_404(member_id), coordinator().actor
    if data["method"] == "sms":
        found = screening.start_sms_screen(member, actor, now())
    elif data["method"] == "phone":
        found = screening.record_phone_screen(member, data["answers"], actor, now())
    else:
        found = screening.override_screen(member, data["eligible"], data["reason"], actor, now())
    db.session.commit()
    return found


@bp.route("/members/<int:member_id>/screenings", methods=["GET"])
@bp.response(200, ScreeningSchema(many=True))
def screenings(member_id):
    """The member's screens, newest first (the read is recorded in the access log)."""
    member = Member.get_or_404(member_id)
    found = list(
        db.session.scalars(db.select(Screening).filter_by(member_id=member.id).order_by(Screening.id.desc()))
    )
    record_read(coordinator().actor, "scores", via(), now(), member)
    db.session.commit()
    return found
