"""Cycles and sessions: start a group's cycle, list and change its sessions; cycle templates."""

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from ipt_groups import scheduling
from ipt_groups.api.access import coordinator, coordinators_change, may_see_group
from ipt_groups.api.clock import now
from ipt_groups.cycle_templates import TEMPLATES, template_to_dict
from ipt_groups.extensions import db
from ipt_groups.models import CycleTemplateRow, Group, GroupSession, IndividualMeeting
from ipt_groups.roster import get_or_404
from ipt_groups.schemas.cycle import (
    CycleArgs,
    CycleSchema,
    SessionPatchArgs,
    SessionSchema,
    TemplateArgs,
    TemplateSchema,
)

bp = Blueprint("cycles", __name__, url_prefix="/api/v1", description="Cycles, sessions and templates")
bp.before_request(coordinators_change)


@bp.route("/groups/<int:group_id>/cycle", methods=["POST"])
@bp.arguments(CycleArgs)
@bp.response(201, CycleSchema)
def start_cycle(data, group_id):
    """Start the group's cycle: every session, individual meeting and reminder is planned."""
    cycle = scheduling.start_cycle(group_id, data, coordinator().actor, now())
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


@bp.route("/groups/<int:group_id>/sessions", methods=["GET"])
@bp.response(200, SessionSchema(many=True))
def group_sessions(group_id):
    """The group's sessions in order."""
    may_see_group(get_or_404(Group, group_id).facilitator_id)
    query = select(GroupSession).filter_by(group_id=group_id).order_by(GroupSession.number)
    return list(db.session.scalars(query))


@bp.route("/sessions/<int:session_id>")
class SessionById(MethodView):
    @bp.response(200, SessionSchema)
    def get(self, session_id):
        """One session."""
        session = get_or_404(GroupSession, session_id)
        may_see_group(db.session.get(Group, session.group_id).facilitator_id)
        return session

    @bp.arguments(SessionPatchArgs)
    @bp.response(200, SessionSchema)
    def patch(self, change, session_id):
        """Move a session to a new local date/time, or cancel it (with `shift` the cycle keeps N)."""
        who = coordinator()
        if change.get("status") == "cancelled":
            session = scheduling.cancel_session(
                session_id, change["shift"], change.get("reason"), who.actor, now()
            )
        else:
            current = get_or_404(GroupSession, session_id)
            new_date = change.get("local_date", current.local_date)
            session = scheduling.move_session(
                session_id, new_date, change.get("local_start", current.local_start), who.actor, now()
            )
        db.session.commit()
        return session


@bp.route("/cycle-templates")
class Templates(MethodView):
    @bp.response(200, TemplateSchema(many=True))
    def get(self):
        """Built-in and coordinators' own cycle templates."""
        built_in = [{**template_to_dict(t), "built_in": True} for t in TEMPLATES.values()]
        own = [{**row.definition, "built_in": False} for row in db.session.scalars(select(CycleTemplateRow))]
        return built_in + own

    @bp.arguments(TemplateArgs)
    @bp.response(201, TemplateSchema)
    def post(self, doc):
        """Add a template; phases must cover 1..N in order with no gap or overlap."""
        row = scheduling.create_template(doc, coordinator().actor, now())
        db.session.commit()
        return {**row.definition, "built_in": False}
