"""Cycles, sessions and templates; individual meetings (the group's facilitator or a coordinator lists,
books and cancels them)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select

from ipt_groups.api.access import authenticate_request, coordinator, coordinators_change, may_see_group
from ipt_groups.api.clock import now
from ipt_groups.api.fields import LocalTime
from ipt_groups.cycles import meetings, operations
from ipt_groups.cycles.schemas import (
    CycleArgs,
    CycleSchema,
    MeetingSchema,
    SessionPatchArgs,
    SessionSchema,
    TemplateArgs,
    TemplateSchema,
)
from ipt_groups.cycles.templates import TEMPLATES, template_to_dict
from ipt_groups.extensions import db
from ipt_groups.models import CycleTemplateRow, Group, GroupSession, IndividualMeeting

cycles_bp = Blueprint("cycles", __name__, url_prefix="/api/v1", description="Cycles, sessions and templates")
cycles_bp.before_request(coordinators_change)


@cycles_bp.route("/groups/<int:group_id>/cycle", methods=["POST"])
@cycles_bp.arguments(CycleArgs)
@cycles_bp.response(201, CycleSchema)
def start_cycle(data, group_id):
    """Start the group's cycle: every session, individual meeting and reminder is planned."""
    who = coordinator()
    cycle = operations.start_cycle(Group.get_or_404(group_id), data, who.actor, now())
    db.session.commit()
    return _cycle_view(cycle)


def _cycle_view(cycle) -> dict:
    sessions = db.session.scalars(select(GroupSession).filter_by(group_id=cycle.group_id).order_by("number"))
    meetings = db.session.scalars(select(IndividualMeeting).filter_by(group_id=cycle.group_id))
    return {
        **{k: getattr(cycle, k) for k in CycleSchema().fields if hasattr(cycle, k)},
        "sessions": list(sessions),
        "meetings": list(meetings),
    }


@cycles_bp.route("/groups/<int:group_id>/sessions", methods=["GET"])
@cycles_bp.response(200, SessionSchema(many=True))
def group_sessions(group_id):
    """The group's sessions in order."""
    may_see_group(Group.get_or_404(group_id).facilitator_id)
    query = select(GroupSession).filter_by(group_id=group_id).order_by(GroupSession.number)
    return list(db.session.scalars(query))


@cycles_bp.route("/sessions/<int:session_id>")
class SessionById(MethodView):
    @cycles_bp.response(200, SessionSchema)
    def get(self, session_id):
        """One session."""
        session = GroupSession.get_or_404(session_id)
        may_see_group(db.session.get(Group, session.group_id).facilitator_id)
        return session

    @cycles_bp.arguments(SessionPatchArgs)
    @cycles_bp.response(200, SessionSchema)
    def patch(self, change, session_id):
        """Move a session to a new local date/time, or cancel it (with `shift` the cycle keeps N)."""
        who = coordinator()
        session = GroupSession.get_or_404(session_id)
        if change.get("status") == "cancelled":
            session = operations.cancel_session(
                session, change["shift"], change.get("reason"), who.actor, now()
            )
        else:
            new_date = change.get("local_date", session.local_date)
            new_start = change.get("local_start", session.local_start)
            session = operations.move_session(session, new_date, new_start, who.actor, now())
        db.session.commit()
        return session


@cycles_bp.route("/cycle-templates")
class Templates(MethodView):
    @cycles_bp.response(200, TemplateSchema(many=True))
    def get(self):
        """Built-in and coordinators' own cycle templates."""
        built_in = [{**template_to_dict(t), "built_in": True} for t in TEMPLATES.values()]
        own = [{**row.definition, "built_in": False} for row in db.session.scalars(select(CycleTemplateRow))]
        return built_in + own

    @cycles_bp.arguments(TemplateArgs)
    @cycles_bp.response(201, TemplateSchema)
    def post(self, doc):
        """Add a template; phases must cover 1..N in order with no gap or overlap."""
        row = operations.create_template(doc, coordinator().actor, now())
        db.session.commit()
        return {**row.definition, "built_in": False}


meetings_bp = Blueprint("meetings", __name__, url_prefix="/api/v1", description="Individual meetings")
meetings_bp.before_request(authenticate_request)


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


@meetings_bp.route("/groups/<int:group_id>/meetings", methods=["GET"])
@meetings_bp.response(200, MeetingSchema(many=True))
def group_meetings(group_id):
    """The group's individual meetings, soonest first."""
    may_see_group(Group.get_or_404(group_id).facilitator_id)
    query = select(IndividualMeeting).filter_by(group_id=group_id).order_by(IndividualMeeting.starts_at)
    return list(db.session.scalars(query))


@meetings_bp.route("/meetings/<int:meeting_id>", methods=["PATCH"])
@meetings_bp.arguments(MeetingPatchArgs)
@meetings_bp.response(200, MeetingSchema)
def change_meeting(change, meeting_id):
    """Book a meeting at a new local time, or cancel it; its reminders follow."""
    meeting = IndividualMeeting.get_or_404(meeting_id)
    who = may_see_group(db.session.get(Group, meeting.group_id).facilitator_id)
    if change.get("status") == "cancelled":
        meeting = meetings.cancel_meeting(meeting, who.actor, now())
    else:
        meeting = meetings.move_meeting(
            meeting, change["local_date"], change["local_start"], who.actor, now()
        )
    db.session.commit()
    return meeting
