"""Alerts and check-ins: what a person must see, and members' symptom scores over the cycle."""

from flask_smorest import Blueprint, abort

from ipt_groups import alerts, scores
from ipt_groups.api.access import authenticate_request, coordinator, may_see_group, principal
from ipt_groups.api.clock import now
from ipt_groups.api.pages import paginate_query
from ipt_groups.extensions import db
from ipt_groups.models import Alert, Group, Member
from ipt_groups.roster import get_or_404
from ipt_groups.schemas.checkin import (
    AckArgs,
    AlertQueryArgs,
    AlertSchema,
    CheckinQueryArgs,
    CheckinSchema,
    ScoresSchema,
)

bp = Blueprint("alerts", __name__, url_prefix="/api/v1", description="Alerts, check-ins and scores")
bp.before_request(authenticate_request)


def _scope() -> int | None:
    who = principal()
    return None if who.is_coordinator else who.facilitator_id


@bp.route("/alerts", methods=["GET"])
@bp.arguments(AlertQueryArgs, location="query")
@bp.response(200, AlertSchema(many=True))
@bp.paginate()
def list_alerts(filters, pagination_parameters):
    """Open alerts, newest first (include_acknowledged=true for all); facilitators see their groups'."""
    return paginate_query(alerts.list_alerts(filters, _scope()), pagination_parameters)


@bp.route("/alerts/<int:alert_id>/ack", methods=["POST"])
@bp.arguments(AckArgs, required=False)
@bp.response(200, AlertSchema)
def ack_alert(args, alert_id):
    """Acknowledge an alert: a person has seen it and acted (audited)."""
    alert = get_or_404(Alert, alert_id)
    if alert.group_id is not None:
        may_see_group(db.session.get(Group, alert.group_id).facilitator_id)
    else:
        coordinator()
    alert = alerts.acknowledge(alert_id, (args or {}).get("note"), principal().actor, now())
    db.session.commit()
    return alert


@bp.route("/checkins", methods=["GET"])
@bp.arguments(CheckinQueryArgs, location="query")
@bp.response(200, CheckinSchema(many=True))
@bp.paginate()
def list_checkins(filters, pagination_parameters):
    """Check-ins by member, group or session; facilitators see their groups'."""
    return paginate_query(scores.list_checkins(filters, _scope()), pagination_parameters)


@bp.route("/members/<int:member_id>/scores", methods=["GET"])
@bp.response(200, ScoresSchema)
def member_scores(member_id):
    """The member's PHQ trajectory and response since the baseline."""
    get_or_404(Member, member_id)
    scope = _scope()
    if scope is not None and not scores.member_in_facilitator_groups(member_id, scope):
        abort(403, message="facilitators see only their own groups' members")
    return scores.trajectory(member_id, scope)
