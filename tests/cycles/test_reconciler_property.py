"""The plan is a function of the facts: after any sequence of changes to a running cycle (moves, cancels
with and without shift, joins, leaves, facilitator and slot changes, STOP/START, timezone changes,
quiet-hour changes, and the dispatcher sending what is due), the group's pending outbox is exactly
desired_messages(current facts): nothing orphaned, nothing missing, nothing doubled, and no member is
told twice of the same net change."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date, datetime, timedelta

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from ipt_groups.checkins.inbox import _start, _stop
from ipt_groups.cycles import operations
from ipt_groups.cycles.plan import PLANNED_KINDS, desired_messages, same_plan
from ipt_groups.cycles.reconcile import group_facts, reconcile_all
from ipt_groups.errors import Conflict, InvalidInput
from ipt_groups.extensions import db
from ipt_groups.groups.operations import create_group, enrol_member, remove_member, update_group
from ipt_groups.messaging.outbox import expire_overdue
from ipt_groups.models import Enrolment, GroupSession, InboundMessage, Member, Message
from ipt_groups.people.roster import create_facilitator, create_member, update_member
from tests.conftest import NOW, facilitator_data, member_data

SERIAL = itertools.count(1)
ZONES = ("America/Chicago", "America/New_York", "Asia/Tokyo", "Europe/London")
QUIET = ("21:00-08:00", "22:00-07:00", "20:00-09:00", "00:00-00:00")
SLOTS = (("tue", "18:00"), ("wed", "19:00"), ("thu", "17:30"), ("tue", "07:00"))

actions = st.one_of(
    st.tuples(
        st.just("move"), st.integers(1, 12), st.integers(-2, 3), st.sampled_from(("17:00", "18:00", "19:30"))
    ),
    st.tuples(st.just("cancel"), st.integers(1, 12), st.booleans()),
    st.tuples(st.just("join"), st.sampled_from(ZONES)),
    st.tuples(st.just("leave"), st.integers(0, 20)),
    st.tuples(
        st.just("facilitator"),
    ),
    st.tuples(st.just("slot"), st.sampled_from(SLOTS)),
    st.tuples(st.just("stop"), st.integers(0, 20)),
    st.tuples(st.just("start"), st.integers(0, 20)),
    st.tuples(st.just("timezone"), st.integers(0, 20), st.sampled_from(ZONES)),
    st.tuples(st.just("quiet"), st.sampled_from(QUIET)),
    st.tuples(
        st.just("send"),
    ),
    st.tuples(st.just("wait"), st.integers(1, 24 * 9)),
)


def _world(first: date, members: int, tz: str):
    n = next(SERIAL)
    lead = create_facilitator(facilitator_data(100 + 2 * n, timezone=tz, max_groups=40), "test", NOW)
    other = create_facilitator(facilitator_data(101 + 2 * n, timezone=tz, max_groups=40), "test", NOW)
    group = create_group(
        {
            "name": f"G{n}",
            "problem_area": "grief",
            "language": "en",
            "day": "tue",
            "start_time": "18:00",
            "facilitator_id": lead.id,
            "timezone": tz,
        },
        "test",
        NOW,
    )
    for _ in range(members):
        _join(group, tz)
    operations.start_cycle(group, {"first_date": first}, "test", NOW)
    db.session.commit()
    return group, (lead.id, other.id)


def _join(group, tz, now=NOW):
    i = 1000 + next(SERIAL)
    member = create_member(member_data(i, phone=f"+1312{5550000 + i:07d}", timezone=tz), "test", now)
    enrol_member(group, member, {"override_late_join": True}, "test", now)
    return member


def _members(group_id: int) -> list[Member]:
    rows = Enrolment.query.filter_by(group_id=group_id).order_by(Enrolment.id)
    return [e.member for e in rows if e.left_on is None]


def _apply(action, group, facilitators, now, app):
    kind = action[0]
    sessions = GroupSession.query.filter_by(group_id=group.id).order_by(GroupSession.number).all()
    members = _members(group.id)
    pick = (lambda i: members[i % len(members)]) if members else (lambda i: None)
    if kind == "move":
        s = sessions[action[1] - 1]
        operations.move_session(s, s.local_date + timedelta(days=action[2]), action[3], "test", now)
    elif kind == "cancel":
        operations.cancel_session(sessions[action[1] - 1], action[2], None, "test", now)
    elif kind == "join":
        _join(group, action[1], now)
    elif kind == "leave" and members:
        remove_member(group.id, pick(action[1]).id, "test", now)
    elif kind == "facilitator":
        other = facilitators[1] if group.facilitator_id == facilitators[0] else facilitators[0]
        update_group(group, {"facilitator_id": other}, "test", now)
    elif kind == "slot":
        update_group(group, {"day": action[1][0], "start_time": action[1][1]}, "test", now)
    elif kind in ("stop", "start") and members:
        record = InboundMessage(body=kind.upper(), handled={})
        (_stop if kind == "stop" else _start)(pick(action[1]), record, now)
    elif kind == "timezone" and members:
        update_member(pick(action[1]), {"timezone": action[2]}, "test", now)
    elif kind == "quiet":
        app.config["QUIET_HOURS"] = action[1]
        reconcile_all(now, "quiet hours changed", batch=5)
    elif kind == "send":  # the dispatcher: what is due goes out
        for m in Message.query.filter(Message.group_id == group.id, Message.state == "pending"):
            if m.due_at <= now:
                m.state, m.sent_at = "sent", now
    db.session.commit()


def _check(group_id: int, now: datetime) -> None:
    expire_overdue(now)  # the dispatcher's sweep: what outlived its moment is expired, not sent
    db.session.commit()
    facts = group_facts(group_id, now)
    desired = desired_messages(facts)
    # rows that were sent (or failed, expired, ...) are history: what is still to send is the rest
    history = {
        key
        for (key,) in db.session.query(Message.dedupe_key).filter(
            Message.dedupe_key.in_(list(desired)), Message.state.not_in(("pending", "cancelled"))
        )
    }
    desired = {k: v for k, v in desired.items() if k not in history}
    pending = {
        m.dedupe_key: m
        for m in Message.query.filter(
            Message.group_id == group_id, Message.state == "pending", Message.kind.in_(PLANNED_KINDS)
        )
    }
    assert set(pending) == set(desired), set(pending) ^ set(desired)
    for key, row in pending.items():
        values = {
            c: getattr(row, c)
            for c in (
                "due_at",
                "deadline_at",
                "context",
                "member_id",
                "facilitator_id",
                "session_id",
                "meeting_id",
            )
        }
        assert same_plan(values, desired[key]), key
    notices = defaultdict(list)
    for m in Message.query.filter_by(group_id=group_id, kind="change_notice").order_by(Message.id):
        if m.state != "cancelled":
            notices[(m.member_id, m.session_id)].append(m)
    for told in notices.values():
        assert sum(m.state == "pending" for m in told) <= 1  # one pending notice per member and session
        said = [(m.context["status"], m.context["new_start"]) for m in told]
        # each notice announces a change from what the one before it said: a net change, told once
        assert all(a != b for a, b in itertools.pairwise(said)), said
        for m in told:
            assert (m.context["status"], m.context["new_start"]) != ("scheduled", m.context["old_start"])


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    first_week=st.integers(1, 8),
    members=st.integers(1, 5),
    tz=st.sampled_from(ZONES[:2]),
    steps=st.lists(actions, min_size=1, max_size=14),
)
def test_pending_outbox_is_always_the_desired_plan(app, db, first_week, members, tz, steps):
    note(f"first_week={first_week} members={members} tz={tz} steps={steps}")
    app.config["QUIET_HOURS"] = "21:00-08:00"
    first = date(2026, 11, 24) + timedelta(weeks=first_week)  # Tuesdays after NOW
    group, facilitators = _world(first, members, tz)
    now = NOW
    try:
        _check(group.id, now)
        for action in steps:
            if action[0] == "wait":
                now += timedelta(hours=action[1])
                continue
            try:
                _apply(action, group, facilitators, now, app)
            except (InvalidInput, Conflict):
                db.session.rollback()  # refused: nothing changed
            now += timedelta(minutes=7)
            _check(group.id, now)
    finally:
        db.session.rollback()
        app.config["QUIET_HOURS"] = "21:00-08:00"


def test_a_quiet_hours_change_replans_every_group(app, db):
    group, _ = _world(date(2026, 12, 1), 2, "America/Chicago")
    before = {m.dedupe_key: m.due_at for m in Message.query.filter_by(kind="reminder_2h", state="pending")}
    app.config["QUIET_HOURS"] = "15:00-17:00"  # 16:00, two hours before 18:00, is now quiet
    try:
        done = reconcile_all(NOW, "quiet hours changed", batch=1)
        after = {m.dedupe_key: m.due_at for m in Message.query.filter_by(kind="reminder_2h", state="pending")}
        assert set(after) == set(before) and done.updated >= len(before)
        assert all(after[k] == before[k] - timedelta(hours=1, minutes=1) for k in before)  # 14:59
        _check(group.id, NOW)
    finally:
        app.config["QUIET_HOURS"] = "21:00-08:00"


def test_ipt_replan_re_plans_every_group_after_quiet_hours_change(app, db, runner):
    group, _ = _world(date(2026, 12, 1), 2, "America/Chicago")
    app.config["QUIET_HOURS"] = "15:00-17:00"
    try:
        result = runner.invoke(args=["ipt", "replan", "--batch", "1"])
        assert result.exit_code == 0, result.output
        assert (
            result.output.startswith("kept ") and "updated 24," in result.output
        )  # 12 sessions x 2 members: the 2 h reminders
        _check(group.id, NOW)
        refused = runner.invoke(args=["ipt", "replan", "--batch", "0"])
        assert refused.exit_code != 0 and "--batch must be at least 1" in refused.output
    finally:
        app.config["QUIET_HOURS"] = "21:00-08:00"
