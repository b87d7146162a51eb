"""A whole programme in simulated time: groups formed from a generated waitlist, cycles run by the
real dispatcher with scripted members answering by SMS, attendance recorded as facilitators would,
and a summary a coordinator can read. The demo README points to, and a CI test at a small size."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from ipt_groups.attendance import records as attendance_records
from ipt_groups.attendance.reports import programme_report
from ipt_groups.checkins import sending as checkin_sending
from ipt_groups.checkins.alerts import acknowledge
from ipt_groups.checkins.inbox import next_session, receive_sms
from ipt_groups.cycles import operations as cycle_operations
from ipt_groups.cycles.calendar import local_to_utc
from ipt_groups.extensions import db
from ipt_groups.formation import proposals as formation
from ipt_groups.messaging.base import SendResult
from ipt_groups.messaging.dispatch import DispatchSettings, run_tick
from ipt_groups.models import (
    Alert,
    Checkin,
    Group,
    GroupSession,
    IndividualMeeting,
    Invitation,
    Member,
    Message,
    Rsvp,
)
from ipt_groups.people.roster import create_facilitator, create_member
from ipt_groups.progress import Track, untracked
from ipt_groups.vocabulary import DAYS, PROBLEM_AREAS
from ipt_groups.worker import ON_TICK

ACTOR = "cli:simulation"
EVENINGS = [{"day": d, "start": "17:00", "end": "21:00"} for d in ("mon", "tue", "wed", "thu")]
MORNINGS = [{"day": d, "start": "09:00", "end": "12:30"} for d in ("sat", "sun")]


@dataclass
class Persona:
    """How one scripted member behaves."""

    member_id: int
    phone: str
    attend_p: float
    drop_week: int | None = None
    stop_week: int | None = None
    item9: bool = False
    answers_p: float = 0.85
    stopped: bool = False
    plans: dict = field(default_factory=dict)  # session id -> will attend


class ScriptedPhones:
    """The SMS backend of the simulation: records each message and queues the members' replies."""

    def __init__(self, personas: dict[str, Persona]):
        self.personas, self.sent, self.queue = personas, Counter(), []

    def send(self, to: str, body: str, *, status_callback: str | None = None) -> SendResult:
        self.sent[to] += 1
        if to in self.personas:
            self.queue.append((to, body))
        return SendResult(f"SIM{sum(self.sent.values()):09d}", "delivered")


@dataclass
class Simulation:
    members: int
    weeks: int
    seed: int
    start: datetime
    rng: random.Random = field(init=False)
    personas: dict[str, Persona] = field(default_factory=dict)
    sids: int = 0

    def __post_init__(self):
        self.rng = random.Random(self.seed)

    def week(self, now: datetime) -> int:
        return (now - self.start).days // 7


# --- the programme ---------------------------------------------------------------------------------


def populate(sim: Simulation, track: Track = untracked) -> None:
    """Facilitators (one per 20 members) and a waitlist with scripted personas."""
    for i in range(max(2, sim.members // 20)):
        create_facilitator(
            {
                "name": f"Facilitator {i + 1}",
                "phone": f"+1202555{2000 + i:04d}",
                "email": f"f{i + 1}@sim.example",
                "timezone": "America/Chicago",
                "languages": ["en"],
                "problem_areas": [],
                "availability": EVENINGS + MORNINGS,
                "max_groups": 3,
            },
            ACTOR,
            sim.start,
        )
    for i in track(range(sim.members), sim.members, "Adding the waitlist"):
        member = create_member(_member(sim, i), ACTOR, sim.start)
        sim.personas[member.phone] = _persona(sim, member)


def _member(sim: Simulation, i: int) -> dict:
    rng = sim.rng
    availability = rng.choice([EVENINGS, EVENINGS[:2], EVENINGS[2:], MORNINGS, EVENINGS[1:3] + MORNINGS])
    return {
        "name": f"Member {i + 1}",
        "phone": f"+1312555{3000 + i:04d}",
        "timezone": "America/Chicago",
        "language": "en",
        "age_band": "adult",
        "problem_area": rng.choice(PROBLEM_AREAS),
        "availability": availability,
        "sms_consent": True,
        "sms_consent_source": "simulation",
        "waitlisted_at": sim.start - timedelta(days=rng.randint(1, 90)),
    }


def _persona(sim: Simulation, member: Member) -> Persona:
    rng = sim.rng
    drop = rng.choice([None] * 8 + [rng.randint(3, 8)])
    stop = rng.choice([None] * 19 + [rng.randint(2, 10)])
    return Persona(member.id, member.phone, rng.uniform(0.6, 0.98), drop, stop)


def form_and_schedule(sim: Simulation, track: Track = untracked) -> dict:
    """Propose groups, commit them, and start each cycle on its first slot after ten days."""
    policy = {
        "first_session_date": (sim.start + timedelta(days=10)).date().isoformat(),
        "weeks": 12,
        "slot_step_minutes": 60,
        "time_limit_s": 10,
    }
    for _ in track([policy], 1, f"Forming groups (up to {policy['time_limit_s']} s)"):
        proposal = formation.propose(policy, {}, ACTOR, sim.start)
    formation.commit(proposal, ACTOR, sim.start)
    invited = select(Member.phone).join(Invitation, Invitation.member_id == Member.id)
    placed = db.session.scalar(invited.order_by(Member.id).limit(1))
    if placed:
        sim.personas[placed].item9 = True  # one member in a group answers PHQ-9 item 9 with a 2
    groups = db.session.scalars(select(Group)).all()
    for group in track(groups, len(groups), "Planning cycles"):
        cycle_operations.start_cycle(
            group, {"template": "ipt-g-12", "first_date": _first(sim, group)}, ACTOR, sim.start
        )
    db.session.commit()
    return proposal.result["stats"]


def _first(sim: Simulation, group: Group) -> date:
    day = sim.start.date() + timedelta(days=10)
    return day + timedelta(days=(DAYS.index(group.day) - day.weekday()) % 7)


# --- one simulated hour ----------------------------------------------------------------------------


def step(sim: Simulation, phones: ScriptedPhones, settings: DispatchSettings, now: datetime) -> None:
    """Send what is due, let members answer, record finished sessions, acknowledge alerts."""
    run_tick(phones, now, settings)
    while phones.queue:
        phone, body = phones.queue.pop(0)
        _answer(sim, phones, sim.personas[phone], body, now)
    db.session.commit()
    _record_attendance(sim, now)
    _acknowledge(now)
    db.session.commit()


def _answer(sim: Simulation, phones: ScriptedPhones, persona: Persona, body: str, now: datetime) -> None:
    text = _reply_to(sim, persona, body, now)
    for _ in range(12):  # a check-in is a short exchange; the bound keeps a script bug from looping
        if text is None:
            return
        sim.sids += 1
        answer = receive_sms(f"SMsim{sim.sids:08d}", persona.phone, text, now)
        db.session.flush()
        text = _reply_to(sim, persona, answer, now) if answer and "Reply 0" in answer else None


def _reply_to(sim: Simulation, persona: Persona, body: str, now: datetime) -> str | None:
    if persona.stopped:
        return None
    if persona.stop_week is not None and sim.week(now) >= persona.stop_week:
        persona.stopped = True
        return "STOP"
    if "Reply YES" in body:  # an invitation to a group: every scripted member takes the place
        return "YES"
    if "Reply C" in body:
        return _rsvp(sim, persona, now)
    if "Reply OK" in body or ("Reply 0" in body and body.startswith("Hi")):  # a check-in opens
        if sim.rng.random() > persona.answers_p:
            return None  # some check-ins go unanswered and expire
        return "OK" if "Reply OK" in body else _score(sim, now)
    if "Reply 0" in body:
        if "better off dead" in body:
            return "2" if persona.item9 else "0"
        return _score(sim, now)
    return None


def _score(sim: Simulation, now: datetime) -> str:
    return str(sim.rng.choice([0, 1, 1, 2, 2, 3] if sim.week(now) < 6 else [0, 0, 1, 1, 2]))


def _rsvp(sim: Simulation, persona: Persona, now: datetime) -> str | None:
    session = next_session(persona.member_id, now)
    if session is None:
        return None
    coming = _plans(sim, persona, session)
    roll = sim.rng.random()
    if coming:
        return "C" if roll < 0.6 else None
    return "X" if roll < 0.5 else None


def _plans(sim: Simulation, persona: Persona, session: GroupSession) -> bool:
    if session.id not in persona.plans:
        dropped = persona.drop_week is not None and sim.week(session.starts_at) >= persona.drop_week
        persona.plans[session.id] = not dropped and sim.rng.random() < persona.attend_p
    return persona.plans[session.id]


def _record_attendance(sim: Simulation, now: datetime) -> None:
    due = select(GroupSession).where(GroupSession.status == "scheduled", GroupSession.ends_at <= now)
    by_id = {p.member_id: p for p in sim.personas.values()}
    for session in db.session.scalars(due).all():
        members = attendance_records.enrolled_that_week(session)
        records = [{"member_id": m, "status": _status(sim, by_id[m], session)} for m in sorted(members)]
        if records:
            attendance_records.record_session(session, records, "facilitator:simulation", now)
    for meeting in db.session.scalars(
        select(IndividualMeeting).where(
            IndividualMeeting.status == "scheduled", IndividualMeeting.ends_at <= now
        )
    ).all():
        attendance_records.record_meeting(
            meeting, [{"member_id": meeting.member_id, "status": "present"}], "facilitator:simulation", now
        )


def _status(sim: Simulation, persona: Persona, session: GroupSession) -> str:
    if _plans(sim, persona, session):
        return "late" if sim.rng.random() < 0.1 else "present"
    declined = db.session.scalar(
        select(Rsvp.id).filter_by(session_id=session.id, member_id=persona.member_id, response="decline")
    )
    return "excused" if declined else "absent"


def _acknowledge(now: datetime) -> None:
    stale = select(Alert).where(Alert.acknowledged_at.is_(None), Alert.created_at <= now - timedelta(hours=2))
    for alert in db.session.scalars(stale).all():
        acknowledge(alert, "followed up (simulation)", "coordinator:simulation", now)


# --- running and reporting -------------------------------------------------------------------------


def run(
    members: int,
    weeks: int,
    seed: int,
    step_minutes: int = 60,
    start: date | None = None,
    track: Track = untracked,
) -> dict:
    """Run the whole programme inside the current app context; returns the summary."""
    first = start or date(2027, 1, 4)
    sim = Simulation(members, weeks, seed, local_to_utc(first, time(9, 0), "America/Chicago"))
    populate(sim, track)
    db.session.commit()
    formed = form_and_schedule(sim, track)
    phones = ScriptedPhones(sim.personas)
    settings = DispatchSettings(
        worker="simulation",
        batch=1000,
        quiet=cycle_operations.quiet_hours(),
        programme="Sim",
        kinds=checkin_sending.KINDS,
        on_tick=ON_TICK,
    )
    steps = -(-weeks * 7 * 24 * 60 // step_minutes)  # every step_minutes until the end, the last included
    now = sim.start
    for n in track(range(1, steps + 1), steps, f"Running {weeks} weeks"):
        now = sim.start + timedelta(minutes=n * step_minutes)
        step(sim, phones, settings, now)
    return summary(formed, phones, now)


def summary(formed: dict, phones: ScriptedPhones, now: datetime) -> dict:
    """What a coordinator wants to know at the end."""
    lines = attendance_records.report_rows({})
    by_phase = Counter()
    for row in programme_report(lines):
        if row["phase"] != "all":
            by_phase[(row["phase"], "attended")] += row["attended"]
            by_phase[(row["phase"], "expected")] += row["expected"]
    completion = Counter(
        r.completion
        for g in db.session.scalars(select(Group))
        for r in attendance_records.build_sheet(g, now).rows
    )
    return {
        "formed": formed,
        "attendance_by_phase": {
            p: _rate(by_phase[(p, "attended")], by_phase[(p, "expected")])
            for p in ("initial", "middle", "termination")
        },
        "completion": dict(completion),
        "messages_by_state": _counts(Message.state),
        "messages_by_kind": _counts(Message.kind),
        "alerts": _counts(Alert.kind),
        "alerts_acknowledged": db.session.scalar(
            select(func.count()).where(Alert.acknowledged_at.is_not(None))
        ),
        "checkins_by_status": _counts(Checkin.status),
        "opted_out": db.session.scalar(select(func.count()).where(Member.opted_out_at.is_not(None))),
        "sms_sent": sum(phones.sent.values()),
        "duplicate_keys": db.session.scalar(
            select(func.count()).select_from(
                select(Message.dedupe_key).group_by(Message.dedupe_key).having(func.count() > 1).subquery()
            )
        ),
    }


def _rate(attended: int, expected: int) -> str:
    return f"{attended}/{expected} ({attended / expected:.0%})" if expected else "none held"


def _counts(column) -> dict:
    return dict(sorted(db.session.execute(select(column, func.count()).group_by(column)).all()))


def render(result: dict) -> str:
    """The summary as text."""
    formed = result["formed"]
    out = [
        f"Groups formed: {formed['groups']} ({formed['placed']} of {formed['members']} members placed; "
        f"unplaced by reason: {formed.get('unplaced_by_reason', {})})",
        "Attendance by phase: " + ", ".join(f"{p} {r}" for p, r in result["attendance_by_phase"].items()),
        f"Completion: {result['completion']}",
        f"Messages by state: {result['messages_by_state']}",
        f"Messages by kind: {result['messages_by_kind']}",
        f"SMS handed to the backend: {result['sms_sent']}; duplicate keys: {result['duplicate_keys']}",
        f"Check-ins: {result['checkins_by_status']}",
        f"Alerts raised: {result['alerts']}; acknowledged: {result['alerts_acknowledged']}",
        f"Members who texted STOP: {result['opted_out']}",
    ]
    return "\n".join(out)
