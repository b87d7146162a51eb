"""The facilitator's pages (coordinators may open them too, for any group): today's and upcoming
sessions, a session's roster with one tap per member, alerts and outreach tasks with the phone to
call, the attendance sheet, the calendar link. Each page calls the operation its API route calls."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Response, redirect, render_template, request, url_for
from sqlalchemy import func, select

from ipt_groups.access_log import record_read
from ipt_groups.api.access import coordinator, may_see_group, principal, scope
from ipt_groups.api.clock import now
from ipt_groups.attendance import calendar_feed, records
from ipt_groups.attendance.sheets import sheet_csv, sheet_pdf
from ipt_groups.checkins import alerts
from ipt_groups.checkins.api import may_see_alert
from ipt_groups.checkins.schemas import AckArgs
from ipt_groups.cycles.operations import cycle_sessions, sessions_between
from ipt_groups.extensions import db
from ipt_groups.models import Alert, Facilitator, Group, GroupSession, Member
from ipt_groups.models.attendance import ATTENDANCE_STATUSES
from ipt_groups.web import charts, forms
from ipt_groups.web.blueprint import bp
from ipt_groups.web.guard import is_fetch

ALERT_KINDS = ("safety", "operator", "rsvp_decline", "small_group")
OUTREACH_KINDS = ("outreach", "cannot_complete", "unmarked")
MOST_LISTED = 200  # alerts on one page; the API pages through the rest


@bp.route("/")
def home():
    """A facilitator's sessions: today, the coming three weeks, and the last week's to record."""
    who = principal()
    if who.is_coordinator:
        return redirect(url_for("web.console"), 303)
    facilitator = db.session.get(Facilitator, who.facilitator_id)
    at = now()
    sessions = sessions_between(at - timedelta(days=7), at + timedelta(days=21), scope())
    today = at.astimezone(ZoneInfo(facilitator.timezone)).date()
    marked = records.marked_counts([s.id for s in sessions])
    days = {s.id: s.starts_at.astimezone(ZoneInfo(facilitator.timezone)).date() for s in sessions}
    return render_template(
        "home.html",
        facilitator=facilitator,
        today=[s for s in sessions if days[s.id] == today],
        upcoming=[s for s in sessions if days[s.id] > today],
        recent=[s for s in reversed(sessions) if days[s.id] < today and s.status != "cancelled"],
        marked=marked,
        open_alerts=_count(ALERT_KINDS),
        open_outreach=_count(OUTREACH_KINDS),
    )


def _count(kinds: tuple[str, ...]) -> int:
    query = alerts.list_alerts({"kinds": kinds}, scope()).order_by(None)
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def _session_of(session_id: int) -> tuple[GroupSession, Group]:
    session = GroupSession.get_or_404(session_id)
    group = db.session.get(Group, session.group_id)
    may_see_group(group.facilitator_id)
    return session, group


@bp.route("/sessions/<int:session_id>")
def session_page(session_id):
    """The roster: first names, who confirmed or can't come, a tap to call, a tap per mark. Showing
    the phones is recorded in the access log, one entry per member."""
    session, group = _session_of(session_id)
    roster = records.session_roster(session)
    at, who = now(), principal()
    for line in roster:
        record_read(who.actor, "member_phone", f"GET /app/sessions/{session_id}", at, line.member)
    page = render_template(
        "session.html",
        session=session,
        group=group,
        roster=roster,
        statuses=ATTENDANCE_STATUSES,
        can_record=session.status != "cancelled" and session.starts_at <= at,
    )
    db.session.commit()  # the access log's reads; after rendering, so the rows need no reloading
    return page


@bp.route("/sessions/<int:session_id>/attendance", methods=["POST"])
def mark_attendance(session_id):
    """One member's mark, saved at once (the script sends it; without script, the form does)."""
    session, group = _session_of(session_id)
    data = forms.attendance(request.form)
    records.record_session(session, data["records"], principal().actor, now())
    db.session.commit()
    member_id = data["records"][0]["member_id"]
    if is_fetch():
        line = next(line for line in records.session_roster(session) if line.member.id == member_id)
        return render_template("_marks.html", session=session, line=line, statuses=ATTENDANCE_STATUSES)
    return redirect(url_for("web.session_page", session_id=session_id, _anchor=f"member-{member_id}"), 303)


@bp.route("/alerts")
def alerts_page():
    """Open alerts (safety, operator, can't-come, groups too small to start): the phone to call, who
    was told and when, whether it arrived, the escalation so far, and an acknowledge button."""
    return _alert_list(ALERT_KINDS, "Alerts", "/app/alerts")


@bp.route("/outreach")
def outreach_page():
    """Outreach tasks: members who missed sessions in a row, or can no longer complete."""
    return _alert_list(OUTREACH_KINDS, "Outreach", "/app/outreach")


def _alert_list(kinds: tuple[str, ...], title: str, via: str):
    listed = list(
        db.session.scalars(alerts.list_alerts({"kinds": kinds}, scope()).limit(MOST_LISTED)).unique()
    )
    member_ids = {a.member_id for a in listed if a.member_id is not None}
    group_ids = {a.group_id for a in listed if a.group_id is not None}
    # Loaded first, so the phones' checks below find the groups and members already in the session.
    groups = {g.id: g for g in db.session.scalars(select(Group).where(Group.id.in_(group_ids)))}
    members = {m.id: m for m in db.session.scalars(select(Member).where(Member.id.in_(member_ids)))}
    alerts.reveal_phones(listed, principal(), f"GET {via}", now())
    page = render_template(
        "alerts.html", alerts=listed, title=title, members=members, groups=groups, most=MOST_LISTED
    )
    db.session.commit()  # the access log's reads; after rendering, so the rows need no reloading
    return page


@bp.route("/alerts/<int:alert_id>/ack", methods=["POST"])
def acknowledge(alert_id):
    """Acknowledge an alert (audited); its escalation stops."""
    alert = Alert.get_or_404(alert_id)
    who = may_see_alert(alert)
    args = AckArgs().load({k: v for k, v in request.form.items() if k == "note" and v.strip()})
    alerts.acknowledge(alert, args.get("note"), who.actor, now())
    db.session.commit()
    back = "web.outreach_page" if alert.kind in OUTREACH_KINDS else "web.alerts_page"
    return redirect(url_for(back), 303)


def _group(group_id: int) -> Group:
    group = Group.get_or_404(group_id)
    may_see_group(group.facilitator_id)
    return group


@bp.route("/groups/<int:group_id>")
def group_page(group_id):
    """A group's cycle: sessions by phase on a timeline (coordinators move and cancel them here), its
    members by first name, and the attendance sheet to download."""
    group = _group(group_id)
    sessions = cycle_sessions(group)
    return render_template(
        "group.html",
        group=group,
        sessions=sessions,
        members=group.current_members,
        timeline=charts.timeline([(s.number, s.phase, s.local_date, s.status) for s in sessions]),
    )


@bp.route("/groups/<int:group_id>/sheet.csv", defaults={"fmt": "csv"}, endpoint="sheet_csv")
@bp.route("/groups/<int:group_id>/sheet.pdf", defaults={"fmt": "pdf"})
def sheet(group_id, fmt):
    """The attendance sheet as CSV or PDF (the API's sheet, rendered the same way)."""
    group = _group(group_id)
    built = records.build_sheet(group, now())
    body = sheet_csv(built).encode("utf-8") if fmt == "csv" else sheet_pdf(built)
    mimetype = "text/csv; charset=utf-8" if fmt == "csv" else "application/pdf"
    disposition = {"Content-Disposition": f'attachment; filename="group-{group_id}.{fmt}"'}
    return Response(body, mimetype=mimetype, headers=disposition)


@bp.route("/calendar")
def calendar():
    """The facilitator's private calendar feed, to subscribe to in a phone's calendar."""
    who = principal()
    if who.facilitator_id is None:
        coordinator()
        return render_template("calendar.html", url=None)
    key = calendar_feed.feed_key(Facilitator.get_or_404(who.facilitator_id))
    url = url_for("calendar.calendar_ics", facilitator_id=who.facilitator_id, key=key, _external=True)
    return render_template("calendar.html", url=url, webcal="webcal://" + url.split("://", 1)[1])
