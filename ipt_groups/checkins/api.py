"""Alerts and check-ins: what a person must see, and members' symptom scores over the cycle."""

from flask_smorest import Blueprint, abort

from ipt_groups.api.access import authenticate_request, principal
from ipt_groups.api.clock import now
from ipt_groups.api.pages import paginate_query
from ipt_groups.checkins import alerts, trajectories
from ipt_groups.checkins.schemas import (
    AckArgs,
    AlertQueryArgs,
    AlertSchema,
    CheckinQueryArgs,
    CheckinSchema,
    ScoresSchema,
)
from ipt_groups.extensions import db
from ipt_groups.models import Alert, Member

bp = Blueprint("alerts", __name__, url_prefix="/api/v1", description="Alerts, check-ins and scores")
bp.before_request(authenticate_request)


def _scope() -> int | None:
    who = principal()
    return None if who.is_coordinator else who.facilitator_id


def _may_see(alert: Alert) -> None:
    """403 unless the caller coordinates, or leads the member's group then or now (alerts.may_see)."""
    if not alerts.may_see(alert, principal()):
        abort(403, message="facilitators see only their own groups' alerts")


@bp.route("/alerts", methods=["GET"])
@bp.arguments(AlertQueryArgs, location="query")
@bp.response(200, AlertSchema(many=True))
@bp.paginate()
def list_alerts(filters, pagination_parameters):
    """Open alerts, newest first (include_acknowledged=true for all); facilitators see their groups'.
    Each shows the phone to call and who was told, when, and whether it arrived; reading a phone is
    recorded in the access log."""
    page = paginate_query(alerts.list_alerts(filters, _scope()), pagination_parameters)
    alerts.reveal_phones(page, principal(), "GET /api/v1/alerts", now())
    db.session.commit()
    return page


@bp.route("/alerts/<int:alert_id>", methods=["GET"])
@bp.response(200, AlertSchema)
def get_alert(alert_id):
    """One alert, with the phone to call (the read is recorded) and the escalation so far."""
    alert = Alert.get_or_404(alert_id)
    _may_see(alert)
    alerts.reveal_phones([alert], principal(), f"GET /api/v1/alerts/{alert_id}", now())
    db.session.commit()
    return alert


@bp.route("/alerts/<int:alert_id>/ack", methods=["POST"])
@bp.arguments(AckArgs, required=False)
@bp.response(200, AlertSchema)
def ack_alert(args, alert_id):
    """Acknowledge an alert: a person has seen it and acted (audited); its escalation stops."""
    alert = Alert.get_or_404(alert_id)
    _may_see(alert)
    alert = alerts.acknowledge(alert, (args or {}).get("note"), principal().actor, now())
    db.session.commit()
    return alert


@bp.route("/checkins", methods=["GET"])
@bp.arguments(CheckinQueryArgs, location="query")
@bp.response(200, CheckinSchema(many=True))
@bp.paginate()
def list_checkins(filters, pagination_parameters):
    """Check-ins by member, group or session; facilitators see their groups'."""
    return paginate_query(trajectories.list_checkins(filters, _scope()), pagination_parameters)


@bp.route("/members/<int:member_id>/scores", methods=["GET"])
@bp.response(200, ScoresSchema)
def member_scores(member_id):
    """The member's PHQ trajectory and response since the baseline."""
    Member.get_or_404(member_id)
    scope = _scope()
    if scope is not None and not trajectories.member_in_facilitator_groups(member_id, scope):
        abort(403, message="facilitators see only their own groups' members")
    return trajectories.trajectory(member_id, scope)
