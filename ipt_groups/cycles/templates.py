"""Cycle templates as plain data: the published IPT-G structures and a coordinator's custom ones.

A template says how many weekly group sessions a cycle has, which sessions form the initial, middle and
termination phases, which individual meetings surround them, and where the PHQ-9 is taken.
Nothing here knows about dates; see calendar.py for the calendar.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

PHASE_NAMES = ("initial", "middle", "termination")
MEETING_KINDS = ("pre_group", "mid_group", "post_group")
CHECKIN_KINDS = ("phq2", "mood")
MAX_SESSIONS = 52
SESSION_MINUTES_RANGE = (30, 240)
MEETING_MINUTES_RANGE = (15, 180)

_FIELDS = {
    "key",
    "name",
    "sessions",
    "phases",
    "meetings",
    "late_join_until_session",
    "session_minutes",
    "weekly_checkin",
}


class CycleError(ValueError):
    """A cycle cannot be built or changed as asked; `errors` maps field paths to readable reasons."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{path}: {', '.join(msgs)}" for path, msgs in errors.items()))


@dataclass(frozen=True)
class Phase:
    """A phase of the cycle, covering group sessions first..last inclusive."""

    name: str
    first: int
    last: int


@dataclass(frozen=True)
class MeetingSpec:
    """An individual meeting with each member; a mid_group meeting follows session `after_session`."""

    kind: str
    after_session: int | None = None
    minutes: int = 60


@dataclass(frozen=True)
class Phq9Point:
    """Where a full PHQ-9 is taken: at the pre-group meeting (session None) or at a group session."""

    occasion: str  # "pre_group", "baseline", "mid_cycle" or "end"
    session: int | None


@dataclass(frozen=True)
class CycleTemplate:
    """The shape of a cycle: N weekly sessions in three phases, plus individual meetings."""

    key: str
    name: str
    sessions: int
    phases: tuple[Phase, ...]
    meetings: tuple[MeetingSpec, ...]
    late_join_until_session: int = 2
    session_minutes: int = 90
    weekly_checkin: str = "phq2"  # the short check-in on the other sessions: "phq2" or "mood"

    def meeting(self, kind: str) -> MeetingSpec | None:
        """The template's meeting of this kind, if it has one."""
        return next((m for m in self.meetings if m.kind == kind), None)

    def phq9_points(self) -> tuple[Phq9Point, ...]:
        """Pre-group meeting (or session 1 without one), the mid-cycle session and the last session."""
        first = Phq9Point("pre_group", None) if self.meeting("pre_group") else Phq9Point("baseline", 1)
        # (N + 1) // 2 is the session halfway through: 4 of 8, 6 of 12, 10 of 20
        return (first, Phq9Point("mid_cycle", (self.sessions + 1) // 2), Phq9Point("end", self.sessions))


def phase_of(template: CycleTemplate, number: int) -> str:
    """The name of the phase that group session `number` belongs to."""
    for phase in template.phases:
        if phase.first <= number <= phase.last:
            return phase.name
    raise CycleError({"number": [f"session {number} is not in 1-{template.sessions}"]})


def _phases(*bounds: tuple[int, int]) -> tuple[Phase, ...]:
    return tuple(Phase(name, first, last) for name, (first, last) in zip(PHASE_NAMES, bounds, strict=True))


_PRE = (MeetingSpec("pre_group"),)
TEMPLATES: dict[str, CycleTemplate] = {
    t.key: t
    for t in (
        CycleTemplate("who-8", "WHO group IPT (8 weeks)", 8, _phases((1, 1), (2, 7), (8, 8)), _PRE),
        CycleTemplate("ipt-g-12", "IPT-G 12 weeks", 12, _phases((1, 4), (5, 9), (10, 12)), _PRE),
        CycleTemplate("ipt-g-16", "IPT-G 16 weeks", 16, _phases((1, 4), (5, 12), (13, 16)), _PRE),
        CycleTemplate(
            "wilfley-20",
            "Wilfley IPT-G (20 weeks)",
            20,
            _phases((1, 5), (6, 15), (16, 20)),
            (*_PRE, MeetingSpec("mid_group", after_session=10), MeetingSpec("post_group")),
        ),
    )
}
DEFAULT_TEMPLATE_KEY = "ipt-g-12"
DEFAULT_TEMPLATE = TEMPLATES[DEFAULT_TEMPLATE_KEY]


def template_to_dict(template: CycleTemplate) -> dict:
    """The JSON-ready form of a template; template_from_dict reads it back."""
    return {
        "key": template.key,
        "name": template.name,
        "sessions": template.sessions,
        "phases": [{"name": p.name, "first": p.first, "last": p.last} for p in template.phases],
        "meetings": [_meeting_to_dict(m) for m in template.meetings],
        "late_join_until_session": template.late_join_until_session,
        "session_minutes": template.session_minutes,
        "weekly_checkin": template.weekly_checkin,
    }


def _meeting_to_dict(meeting: MeetingSpec) -> dict:
    out = {"kind": meeting.kind, "minutes": meeting.minutes}
    if meeting.after_session is not None:
        out["after_session"] = meeting.after_session
    return out


def template_from_dict(doc: dict) -> CycleTemplate:
    """Build and check a custom template; raises CycleError with every problem by field path."""
    if not isinstance(doc, dict):
        raise CycleError({"": ["a template must be an object"]})
    errors: dict[str, list[str]] = defaultdict(list)
    for unknown in sorted(set(doc) - _FIELDS):
        errors[unknown].append("is not a template field")
    key, name = _text(doc, "key", errors), _text(doc, "name", errors)
    n = _int(doc.get("sessions"), "sessions", errors, 1, MAX_SESSIONS)
    phases = _read_phases(doc.get("phases"), n, errors)
    meetings = _read_meetings(doc.get("meetings", []), n, errors)
    late_join = doc.get("late_join_until_session", 2)
    late = _int(late_join, "late_join_until_session", errors, 1, n or MAX_SESSIONS)
    minutes = _int(doc.get("session_minutes", 90), "session_minutes", errors, *SESSION_MINUTES_RANGE)
    checkin = doc.get("weekly_checkin", "phq2")
    if checkin not in CHECKIN_KINDS:
        errors["weekly_checkin"].append(f"must be one of {', '.join(CHECKIN_KINDS)}")
    if errors:
        raise CycleError(dict(errors))
    return CycleTemplate(key, name, n, phases, meetings, late, minutes, checkin)


def _text(doc: dict, field: str, errors: dict) -> str:
    value = doc.get(field)
    if not isinstance(value, str) or not value.strip():
        errors[field].append("is required")
        return ""
    return value.strip()


def _int(value, path: str, errors: dict, low: int, high: int) -> int | None:
    # bool is an int subclass, but `true` sessions is a mistake, not 1
    if not isinstance(value, int) or isinstance(value, bool):
        errors[path].append("must be a whole number")
        return None
    if not low <= value <= high:
        errors[path].append(f"must be in {low}-{high}")
        return None
    return value


def _read_phases(raw, n: int | None, errors: dict) -> tuple[Phase, ...]:
    names = [p.get("name") if isinstance(p, dict) else None for p in raw] if isinstance(raw, list) else None
    if names != list(PHASE_NAMES):
        errors["phases"].append(f"must be exactly {', '.join(PHASE_NAMES)}, in that order")
        return ()
    bounds = [
        (_int(p.get("first"), f"phases[{i}].first", errors, 1, MAX_SESSIONS),
         _int(p.get("last"), f"phases[{i}].last", errors, 1, MAX_SESSIONS))
        for i, p in enumerate(raw)
    ]  # fmt: skip
    if any(b is None for pair in bounds for b in pair):
        return ()
    phases = _phases(*bounds)
    _check_contiguous(phases, n, errors)
    return phases


def _check_contiguous(phases: tuple[Phase, ...], n: int | None, errors: dict) -> None:
    expected = 1  # the session the next phase must start at
    for i, phase in enumerate(phases):
        if phase.last < phase.first:
            errors[f"phases[{i}].last"].append(f"ends before it starts (session {phase.first})")
        if phase.first > expected:
            errors[f"phases[{i}].first"].append(f"gap: sessions {expected}-{phase.first - 1} are in no phase")
        elif phase.first < expected:
            errors[f"phases[{i}].first"].append(f"overlaps the previous phase, which ends at {expected - 1}")
        expected = phase.last + 1
    if n is not None and phases[-1].last != n:
        errors[f"phases[{len(phases) - 1}].last"].append(f"must be {n}, so that the phases cover 1-{n}")


def _read_meetings(raw, n: int | None, errors: dict) -> tuple[MeetingSpec, ...]:
    if not isinstance(raw, list):
        errors["meetings"].append("must be a list")
        return ()
    meetings, seen = [], set()
    for i, item in enumerate(raw):
        meeting = _read_meeting(item if isinstance(item, dict) else {}, f"meetings[{i}]", n, errors)
        if meeting and meeting.kind in seen:
            errors[f"meetings[{i}].kind"].append(f"a cycle has at most one {meeting.kind} meeting")
        elif meeting:
            seen.add(meeting.kind)
            meetings.append(meeting)
    return tuple(meetings)


def _read_meeting(item: dict, path: str, n: int | None, errors: dict) -> MeetingSpec | None:
    kind = item.get("kind")
    if kind not in MEETING_KINDS:
        errors[f"{path}.kind"].append(f"must be one of {', '.join(MEETING_KINDS)}")
        return None
    minutes = _int(item.get("minutes", 60), f"{path}.minutes", errors, *MEETING_MINUTES_RANGE)
    after = item.get("after_session")
    if kind != "mid_group":
        if after is not None:
            errors[f"{path}.after_session"].append("only a mid_group meeting follows a session")
        return MeetingSpec(kind, None, minutes or 60)
    # a mid-group meeting sits between two sessions, so it cannot follow the last one
    after = _int(after, f"{path}.after_session", errors, 1, max(1, (n or MAX_SESSIONS) - 1))
    return MeetingSpec(kind, after, minutes or 60) if after else None
