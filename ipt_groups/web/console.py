"""The coordinator's console: the waitlist and its CSV import, groups, their seats and their cycles,
moving and cancelling sessions, and the programme's outcomes. Coordinators only, as in the API."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from ipt_groups.api.access import coordinator
from ipt_groups.api.clock import now
from ipt_groups.attendance.sheets.tabular import to_csv
from ipt_groups.checkins.courses import programme_outcomes
from ipt_groups.checkins.outcomes import COLUMNS, outcome_rows
from ipt_groups.checkins.schemas import OutcomeArgs
from ipt_groups.cycles import operations
from ipt_groups.errors import InvalidInput
from ipt_groups.extensions import db
from ipt_groups.formation.seats import seats as group_seats_of
from ipt_groups.groups.operations import list_groups
from ipt_groups.models import Alert, Facilitator, Group, GroupProposal, GroupSession, Member
from ipt_groups.people.roster import list_members
from ipt_groups.people.schemas import MemberQueryArgs
from ipt_groups.people.waitlist_import import import_waitlist, import_warnings
from ipt_groups.people.waitlist_sheet import decode
from ipt_groups.vocabulary import MEMBER_STATUSES, PROBLEM_AREAS
from ipt_groups.web import charts, forms
from ipt_groups.web.blueprint import bp

PAGE_SIZE = 50
MAX_CSV_BYTES = 2 * 1024 * 1024


@bp.route("/console")
def console():
    """What needs a coordinator: the waitlist, groups, open alerts, draft proposals."""
    coordinator()
    counts = {
        "waitlisted": _count(select(Member.id).where(Member.status == "waitlisted")),
        "groups": _count(select(Group.id).where(Group.status != "cancelled")),
        "open_alerts": _count(select(Alert.id).where(Alert.acknowledged_at.is_(None))),
        "drafts": _count(select(GroupProposal.id).where(GroupProposal.status == "draft")),
    }
    return render_template("console/index.html", counts=counts)


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


@bp.route("/console/waitlist")
def waitlist():
    """Members with filters (status, problem area, language), longest-waiting first, 50 a page."""
    coordinator()
    filters = MemberQueryArgs().load({k: v for k, v in request.args.items() if k != "page" and v})
    page = max(int(request.args.get("page", "1")) if request.args.get("page", "1").isdigit() else 1, 1)
    query = list_members(filters)
    total = _count(query)
    members = db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template(
        "console/waitlist.html",
        members=members,
        filters=filters,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        total=total,
        statuses=MEMBER_STATUSES,
        areas=PROBLEM_AREAS,
    )


@bp.route("/console/import", methods=["GET", "POST"])
def import_csv():
    """Import a waitlist CSV: a dry run first (every bad row listed by its spreadsheet row), then the
    import of the same text, all rows or none."""
    who = coordinator()
    if request.method != "POST":
        return render_template("console/import.html", checked=None, errors=None, text="")
    text = _uploaded_text()
    dry_run = request.form.get("confirm") != "yes"
    try:
        rows, created = import_waitlist(text.encode("utf-8"), dry_run, who.actor, now())
    except InvalidInput as exc:
        db.session.rollback()
        return render_template("console/import.html", checked=None, errors=exc, text=text), 422
    db.session.commit()
    if dry_run:
        return render_template(
            "console/import.html", checked=len(rows), warnings=import_warnings(rows), errors=None, text=text
        )
    flash(f"Imported {len(created)} members to the waitlist.", "info")
    return redirect(url_for("web.waitlist"), 303)


def _uploaded_text() -> str:
    upload = request.files.get("file")
    raw = (
        upload.read(MAX_CSV_BYTES + 1)
        if upload and upload.filename
        else request.form.get("text", "").encode()
    )
    if not raw.strip():
        raise InvalidInput("no CSV", {"file": ["choose a CSV file"]})
    return decode(raw)  # shown back for the confirmation, which sends it as UTF-8


@bp.route("/console/groups")
def groups():
    """Every group with its facilitator, size and status."""
    coordinator()
    listed = db.session.scalars(list_groups({}, None)).all()
    return render_template("console/groups.html", groups=listed)


@bp.route("/console/groups/<int:group_id>/seats")
def group_seats(group_id):
    """A group's seats: accepted, waiting, declined or unanswered and to whom they went next."""
    coordinator()
    group = Group.get_or_404(group_id)
    return render_template("console/seats.html", group=group, seats=group_seats_of(group, now()))


@bp.route("/sessions/<int:session_id>/move", methods=["POST"])
def move_session(session_id):
    """Move a session to a new local date and time (members are told)."""
    who = coordinator()
    change = forms.session_move(request.form)
    session = GroupSession.get_or_404(session_id)
    operations.move_session(session, change["local_date"], change["local_start"], who.actor, now())
    db.session.commit()
    flash(
        f"Session {session.number} moved to {session.local_date:%a %d %b} at {session.local_start}.", "info"
    )
    return redirect(url_for("web.group_page", group_id=session.group_id), 303)


@bp.route("/sessions/<int:session_id>/cancel", methods=["POST"])
def cancel_session(session_id):
    """Cancel a session; with "shift", the rest of the cycle moves a week later."""
    who = coordinator()
    change = forms.session_cancel(request.form)
    session = GroupSession.get_or_404(session_id)
    operations.cancel_session(session, change["shift"], change.get("reason"), who.actor, now())
    db.session.commit()
    flash(f"Session {session.number} cancelled.", "info")
    return redirect(url_for("web.group_page", group_id=session.group_id), 303)


@bp.route("/console/outcomes")
def outcomes():
    """PHQ-9 outcomes for the programme, per group and by attendance dose, as charts and tables."""
    coordinator()
    filters = OutcomeArgs().load({k: v for k, v in request.args.items() if v and k != "format"})
    report = programme_outcomes(filters)
    facilitators = db.session.scalars(select(Facilitator).order_by(Facilitator.name)).all()
    return render_template(
        "console/outcomes.html",
        report=report,
        filters=filters,
        facilitators=facilitators,
        measures=_measure_chart(report["programme"]),
        scores=charts.score_pairs(
            "Mean PHQ-9 at baseline and at the end, per group",
            [(g["name"], g["mean_baseline"], g["mean_end"]) for g in report["groups"]],
        ),
        dose=charts.rate_bars(
            "Response by attendance dose",
            [(d["dose"], d["response"]["rate"], _share(d["response"])) for d in report["by_dose"]],
        ),
    )


@bp.route("/console/outcomes.csv")
def outcomes_csv():
    """The outcomes report as CSV, as the API gives it."""
    coordinator()
    report = programme_outcomes(OutcomeArgs().load({k: v for k, v in request.args.items() if v}))
    disposition = {"Content-Disposition": 'attachment; filename="outcomes.csv"'}
    body = to_csv(COLUMNS, outcome_rows(report)).encode("utf-8")
    return Response(body, mimetype="text/csv; charset=utf-8", headers=disposition)


MEASURE_LABELS = {
    "response": "Response",
    "remission": "Remission",
    "reliable_improvement": "Reliable improvement",
    "recovery": "Recovery",
}


def _share(part: dict) -> str:
    return f"{part['n']} of {part['of']}" + (f" ({part['rate']:.0%})" if part["rate"] is not None else "")


def _measure_chart(summary: dict) -> str:
    bars = [(label, summary[key]["rate"], _share(summary[key])) for key, label in MEASURE_LABELS.items()]
    return charts.rate_bars("The programme's outcomes", bars)
