"""Individual meetings: the group's facilitator (or a coordinator) lists, books and cancels them."""

from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select

from ipt_groups import meetings
from ipt_groups.api.access import authenticate_request, may_see_group
from ipt_groups.api.clock import now
from ipt_groups.extensions import db
from ipt_groups.models import Group, IndividualMeeting
from ipt_groups.roster import get_or_404
from ipt_groups.schemas.cycle import MeetingSchema
from ipt_groups.schemas.fields import LocalTime

bp = Blueprint("meetings", __name__, url_prefix="/api/v1", description="Individual meetings")
bp.before_request(authenticate_request)


class MeetingPatchArgs(Schema):
    """Book the meeting at a local date and time (the group's timezone), or cancel it."""

    local_date = fields.Date()
    local_start = LocalTime()
    status = fields.Str(validate=validate.OneOf(["cancelled"]))

    @validates_schema
    def move_or_cancel(self, data, **kwargs):
        """Both local_date and local_start to move; status=cancelled alone to cancel."""
        moving = {"local_date", "local_start"} & data.keys()
        if "status" in data and moving:
            raise ValidationError("move or cancel, not both", "status")
        if "status" not in data and moving != {"local_date", "local_start"}:
            raise ValidationError("give local_date and local_start to move, or status=cancelled", "_schema")


@bp.route("/groups/<int:group_id>/meetings", methods=["GET"])
@bp.response(200, MeetingSchema(many=True))
def group_meetings(group_id):
    """The group's individual meetings, soonest first."""
    may_see_group(get_or_404(Group, group_id).facilitator_id)
    query = select(IndividualMeeting).filter_by(group_id=group_id).order_by(IndividualMeeting.starts_at)
    return list(db.session.scalars(query))


@bp.route("/meetings/<int:meeting_id>", methods=["PATCH"])
@bp.arguments(MeetingPatchArgs)
@bp.response(200, MeetingSchema)
def change_meeting(change, meeting_id):
    """Book a meeting at a new local time, or cancel it; its reminders follow."""
    meeting = get_or_404(IndividualMeeting, meeting_id)
    who = may_see_group(db.session.get(Group, meeting.group_id).facilitator_id)
    if change.get("status") == "cancelled":
        meeting = meetings.cancel_meeting(meeting, who.actor, now())
    else:
        meeting = meetings.move_meeting(
            meeting, change["local_date"], change["local_start"], who.actor, now()
        )
    db.session.commit()
    return meeting
