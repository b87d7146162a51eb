"""Attendance: facilitators record it and pull sheets (JSON, CSV, PDF); the programme report;
facilitators' calendar feeds."""

from flask import Response, request, url_for
from flask_smorest import Blueprint, abort

from ipt_groups.access_log import record_member_reads
from ipt_groups.api.access import authenticate_request, coordinator, may_see_group, principal, via
from ipt_groups.api.clock import now
from ipt_groups.attendance import calendar_feed, records
from ipt_groups.attendance.reports import programme_report
from ipt_groups.attendance.schemas import (
    AttendanceArgs,
    AttendanceRecordSchema,
    CalendarLinkSchema,
    FormatArgs,
    ReportArgs,
    RsvpPictureSchema,
)
from ipt_groups.attendance.sheets import report_csv, sheet_csv, sheet_json, sheet_pdf
from ipt_groups.extensions import db
from ipt_groups.models import Facilitator, Group, GroupSession, IndividualMeeting

bp = Blueprint("attendance", __name__, url_prefix="/api/v1", description="Attendance, sheets and reports")
bp.before_request(authenticate_request)
feeds = Blueprint("calendar", __name__, url_prefix="/api/v1", description="Facilitators' calendar feeds")

_TYPES = {"json": "application/json", "csv": "text/csv", "pdf": "application/pdf"}
_SHEET_KEYS = [
    "group",
    "generated_at",
    "rule",
    "phases",
    "session_attended",
    "next_session",
    "roster",
    "members",
]
_CSV = {"schema": {"type": "string"}}
_SHEET_DOC = {
    "description": "The sheet as JSON; also text/csv and application/pdf (Accept or ?format=)",
    "content": {
        "application/json": {"schema": {"type": "object", "required": _SHEET_KEYS}},
        "text/csv": _CSV,
        "application/pdf": {"schema": {"type": "string", "format": "binary"}},
    },
}
_REPORT_DOC = {
    "description": "Per group and phase; also text/csv (Accept or ?format=csv)",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["rows"],
                "properties": {"rows": {"type": "array", "items": {"type": "object"}}},
            }
        },
        "text/csv": _CSV,
    },
}
_ICS_DOC = {"description": "iCalendar", "content": {"text/calendar": {"schema": {"type": "string"}}}}


def _group_of(group_id: int) -> Group:
    group = Group.get_or_404(group_id)
    may_see_group(group.facilitator_id)
    return group


@bp.route("/sessions/<int:session_id>/attendance", methods=["PUT"])
@bp.arguments(AttendanceArgs)
@bp.response(200, AttendanceRecordSchema(many=True))
def record_session(data, session_id):
    """Record attendance (present, late, absent, excused) at a session that has started."""
    session = GroupSession.get_or_404(session_id)
    _group_of(session.group_id)
    saved = records.record_session(session, data["records"], principal().actor, now())
    db.session.commit()
    return saved


@bp.route("/sessions/<int:session_id>/rsvps", methods=["GET"])
@bp.response(200, RsvpPictureSchema)
def session_rsvps(session_id):
    """Who confirmed (replied C), who can't come (X) and who has not answered, for one session: the
    group's facilitator and coordinators."""
    session = GroupSession.get_or_404(session_id)
    _group_of(session.group_id)
    return records.rsvp_picture(session)


@bp.route("/meetings/<int:meeting_id>/attendance", methods=["PUT"])
@bp.arguments(AttendanceArgs)
@bp.response(200, AttendanceRecordSchema(many=True))
def record_meeting(data, meeting_id):
    """Record attendance at an individual meeting (pre-, mid- or post-group)."""
    meeting = IndividualMeeting.get_or_404(meeting_id)
    _group_of(meeting.group_id)
    saved = records.record_meeting(meeting, data["records"], principal().actor, now())
    db.session.commit()
    return saved


def _format(allowed: tuple[str, ...]) -> str:
    asked = request.args.get("format")
    if asked:
        return asked
    best = request.accept_mimetypes.best_match([_TYPES[f] for f in allowed], default="application/json")
    return next(f for f in allowed if _TYPES[f] == best)


@bp.route("/groups/<int:group_id>/attendance-sheet", methods=["GET"])
@bp.arguments(FormatArgs, location="query")
@bp.doc(responses={"200": _SHEET_DOC})
def attendance_sheet(_args, group_id):
    """Members by sessions grouped by phase, with rates, completion, absences, scores and alerts."""
    group = _group_of(group_id)
    sheet = records.build_sheet(group, now())
    fmt = _format(("json", "csv", "pdf"))
    reads = {row.member.id: {"group_id": group_id, "format": fmt} for row in sheet.rows}
    record_member_reads(principal().actor, "attendance_sheet", via(), now(), reads)
    db.session.commit()
    if fmt == "csv":
        return _download(sheet_csv(sheet).encode("utf-8"), "text/csv; charset=utf-8", f"group-{group_id}.csv")
    if fmt == "pdf":
        return _download(sheet_pdf(sheet), "application/pdf", f"group-{group_id}.pdf")
    return sheet_json(sheet)


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@bp.route("/reports/attendance", methods=["GET"])
@bp.arguments(ReportArgs, location="query")
@bp.doc(responses={"200": _REPORT_DOC})
def attendance_report(filters):
    """Attendance per group and per phase across the programme, filtered by group and dates."""
    coordinator()
    lines = programme_report(records.report_rows(filters))
    if _format(("json", "csv")) == "csv":
        return _download(
            report_csv(lines).encode("utf-8"), "text/csv; charset=utf-8", "attendance-report.csv"
        )
    return {"rows": lines}


@bp.route("/facilitators/<int:facilitator_id>/calendar-link", methods=["GET"])
@bp.response(200, CalendarLinkSchema)
def calendar_link(facilitator_id):
    """The facilitator's private calendar feed URL, to subscribe to in a calendar app."""
    facilitator = Facilitator.get_or_404(facilitator_id)
    may_see_group(facilitator_id)
    key = calendar_feed.feed_key(facilitator)
    return {"url": url_for("calendar.calendar_ics", facilitator_id=facilitator_id, key=key, _external=True)}


@bp.route("/facilitators/<int:facilitator_id>/calendar-link", methods=["DELETE"])
@bp.response(204)
def revoke_calendar_link(facilitator_id):
    """Revoke the facilitator's feed URL alone (it answers 404 from now on); the next calendar-link
    is a new one. Audited."""
    facilitator = Facilitator.get_or_404(facilitator_id)
    calendar_feed.revoke_feed(facilitator, may_see_group(facilitator_id).actor)
    db.session.commit()


@feeds.route("/facilitators/<int:facilitator_id>/calendar.ics", methods=["GET"])
@feeds.doc(
    responses={"200": _ICS_DOC},
    security=[{"bearerAuth": []}, {}],
    parameters=[{"in": "query", "name": "key", "schema": {"type": "string"}}],
)
def calendar_ics(facilitator_id):
    """The facilitator's sessions and meetings as iCalendar: the feed `key` (404 when it does not open
    this feed, whether or not the facilitator exists), or else a bearer token."""
    key = request.args.get("key")
    if key is not None:
        facilitator = calendar_feed.facilitator_for_key(facilitator_id, key)
        if facilitator is None:
            abort(404, message="no such calendar feed")
    else:
        authenticate_request()
        facilitator = Facilitator.get_or_404(facilitator_id)
        may_see_group(facilitator_id)
    body = calendar_feed.facilitator_calendar(facilitator, now())
    return Response(body, mimetype="text/calendar", headers={"Cache-Control": "private, max-age=300"})
