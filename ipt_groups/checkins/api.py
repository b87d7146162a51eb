"""Alerts and check-ins: what a person must see, and members' symptom scores over the cycle."""

from flask import Response, request
from flask_smorest import Blueprint, abort

from ipt_groups.access_log import record_member_reads, record_read
from ipt_groups.api.access import authenticate_request, coordinator, principal, scope, via
from ipt_groups.api.clock import now
from ipt_groups.api.pages import paginate_query
from ipt_groups.attendance.sheets.tabular import to_csv
from ipt_groups.auth import Principal
from ipt_groups.checkins import alerts, trajectories
from ipt_groups.checkins.courses import programme_outcomes
from ipt_groups.checkins.outcomes import COLUMNS, outcome_rows
from ipt_groups.checkins.schemas import (
    AckArgs,
    AlertQueryArgs,
    AlertSchema,
    CheckinQueryArgs,
    CheckinSchema,
    OutcomeArgs,
    ScoresSchema,
)
from ipt_groups.extensions import db
from ipt_groups.models import Alert, Member

bp = Blueprint("alerts", __name__, url_prefix="/api/v1", description="Alerts, check-ins and scores")
bp.before_request(authenticate_request)


def may_see_alert(alert: Alert) -> Principal:
    """The caller, who must coordinate or lead the member's group when the alert was raised or, while
    it is open, now (alerts of no group: coordinators; the rule is `alerts.may_see`); 403 otherwise.
    The pages call it too: one authorization layer."""
    who = principal()
    if not alerts.may_see(alert, who):
        abort(403, message="facilitators see only their own groups' alerts")
    return who


@bp.route("/alerts", methods=["GET"])
@bp.arguments(AlertQueryArgs, location="query")
@bp.response(200, AlertSchema(many=True))
@bp.paginate()
def list_alerts(filters, pagination_parameters):
    """Open alerts, newest first (include_acknowledged=true for all); facilitators see their groups'.
    Each shows the phone to call and who was told, when, and whether it arrived; reading a phone is
    recorded in the access log."""
    page = paginate_query(alerts.list_alerts(filters, scope()), pagination_parameters)
    alerts.reveal_phones(page, principal(), "GET /api/v1/alerts", now())
    _record_alert_reads(page)
    db.session.commit()
    return page


@bp.route("/alerts/<int:alert_id>", methods=["GET"])
@bp.response(200, AlertSchema)
def get_alert(alert_id):
    """One alert, with the phone to call (the read is recorded) and the escalation so far."""
    alert = Alert.get_or_404(alert_id)
    may_see_alert(alert)
    alerts.reveal_phones([alert], principal(), f"GET /api/v1/alerts/{alert_id}", now())
    _record_alert_reads([alert])
    db.session.commit()
    return alert


def _record_alert_reads(shown: list[Alert]) -> None:
    """An alert about a member is a read of their health data: one access-log entry per member."""
    reads: dict[int, dict] = {}
    for alert in shown:
        if alert.member_id is not None:
            reads.setdefault(alert.member_id, {"alert_ids": []})["alert_ids"].append(alert.id)
    record_member_reads(principal().actor, "alert", via(), now(), reads)


@bp.route("/alerts/<int:alert_id>/ack", methods=["POST"])
@bp.arguments(AckArgs, required=False)
@bp.response(200, AlertSchema)
def ack_alert(args, alert_id):
    """Acknowledge an alert: a person has seen it and acted (audited); its escalation stops."""
    alert = Alert.get_or_404(alert_id)
    may_see_alert(alert)
    alert = alerts.acknowledge(alert, (args or {}).get("note"), principal().actor, now())
    db.session.commit()
    return alert


@bp.route("/checkins", methods=["GET"])
@bp.arguments(CheckinQueryArgs, location="query")
@bp.response(200, CheckinSchema(many=True))
@bp.paginate()
def list_checkins(filters, pagination_parameters):
    """Check-ins by member, group or session; facilitators see their groups'. Each member whose
    check-ins are shown is recorded in the access log."""
    page = paginate_query(trajectories.list_checkins(filters, scope()), pagination_parameters)
    reads: dict[int, dict] = {}
    for checkin in page:
        reads.setdefault(checkin.member_id, {"checkin_ids": []})["checkin_ids"].append(checkin.id)
    record_member_reads(principal().actor, "checkins", via(), now(), reads)
    db.session.commit()
    return page


@bp.route("/members/<int:member_id>/scores", methods=["GET"])
@bp.response(200, ScoresSchema)
def member_scores(member_id):
    """The member's PHQ trajectory and response since the baseline (the read is recorded)."""
    member = Member.get_or_404(member_id)
    facilitator_id = scope()
    if facilitator_id is not None and not trajectories.member_in_facilitator_groups(
        member_id, facilitator_id
    ):
        abort(403, message="facilitators see only their own groups' members")
    scores = trajectories.trajectory(member_id, facilitator_id)
    record_read(principal().actor, "scores", via(), now(), member)
    db.session.commit()
    return scores


_SUMMARY = {
    "type": "object",
    "description": "members, with_baseline, with_both, means; n/of/rate per outcome",
}
_OUTCOMES_DOC = {
    "description": "The programme, each group, each attendance dose; also text/csv (Accept or ?format=)",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["programme", "groups", "by_dose"],
                "properties": {
                    "programme": _SUMMARY,
                    "groups": {"type": "array", "items": _SUMMARY},
                    "by_dose": {"type": "array", "items": _SUMMARY},
                },
            }
        },
        "text/csv": {"schema": {"type": "string"}},
    },
}


@bp.route("/reports/outcomes", methods=["GET"])
@bp.arguments(OutcomeArgs, location="query")
@bp.doc(responses={"200": _OUTCOMES_DOC})
def outcomes_report(filters):
    """PHQ-9 outcomes per group and for the programme: members with a baseline, mean scores at the
    baseline and the end, change, response, remission, reliable improvement and recovery, and the
    same by attendance dose (README, Outcomes)."""
    coordinator()
    report = programme_outcomes(filters)
    wanted = filters.pop("format", None) or request.accept_mimetypes.best_match(
        ["application/json", "text/csv"], default="application/json"
    )
    if wanted in ("csv", "text/csv"):
        body = to_csv(COLUMNS, outcome_rows(report)).encode("utf-8")
        disposition = {"Content-Disposition": 'attachment; filename="outcomes.csv"'}
        return Response(body, mimetype="text/csv; charset=utf-8", headers=disposition)
    return report
