"""check_group: the rule violations of one group, given the other groups and the groups its facilitator
leads already: the rules commit applies, for coordinators' edits and the engine's last check."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from ipt_groups.formation.engine.existing import dated_clash, weekly_clash
from ipt_groups.formation.engine.model import ExistingGroup, Facilitator, PlanningInput
from ipt_groups.formation.engine.slots import inside, local_span, slot_utc_starts, week_intervals, zone
from ipt_groups.time_of_day import parse_hhmm
from ipt_groups.vocabulary import DAYS


def check_group(inp: PlanningInput, group: dict, other_groups: list[dict]) -> list[str]:
    """Every rule the group breaks, as sentences; an empty list means the group is valid. Only the other
    groups of its facilitator matter, besides a member listed in two groups."""
    problems = _size_and_members(inp, group) + _matching(inp, group)
    fac = inp.facilitator_by_id.get(group.get("facilitator_id"))
    if fac is None:
        return [*problems, f"facilitator {group.get('facilitator_id')!r} is unknown"]
    problems += _qualification(inp, group, fac)
    starts, slot_problems = _weekly_starts(inp, group, fac)
    problems += slot_problems
    if starts:
        problems += _availability(inp, group, fac, starts)
    return problems + _against_others(inp, group, fac, starts, other_groups)


def _members(inp: PlanningInput, group: dict) -> list:
    return [inp.member_by_id[i] for i in dict.fromkeys(group.get("member_ids", [])) if i in inp.member_by_id]


def _size_and_members(inp: PlanningInput, group: dict) -> list[str]:
    ids, policy = list(group.get("member_ids", [])), inp.policy
    problems = [f"member {i!r} is unknown" for i in ids if i not in inp.member_by_id]
    problems += [f"member {i!r} is listed twice" for i in dict.fromkeys(ids) if ids.count(i) > 1]
    if not policy.min_size <= len(set(ids)) <= policy.max_size:
        problems.append(f"size {len(set(ids))} is outside {policy.min_size}-{policy.max_size}")
    return problems


def _matching(inp: PlanningInput, group: dict) -> list[str]:
    """Members must share each matched attribute; problem area may differ when mixing is allowed."""
    members = _members(inp, group)
    match = [a for a in inp.policy.match_on if not (a == "problem_area" and inp.policy.mix_problem_areas)]
    return [
        f"members do not share {attr} ({', '.join(sorted(map(str, values)))})"
        for attr in match
        if len(values := {m.attrs[attr] for m in members}) > 1
    ]


def _qualification(inp: PlanningInput, group: dict, fac: Facilitator) -> list[str]:
    members = _members(inp, group)
    problems = [
        f"facilitator {fac.id!r} cannot lead member {m.id!r} ({m.combo[0]}, {m.combo[1]})"
        for m in members
        if not fac.accepts(m.combo)
    ]
    if fac.problem_areas and len({m.attrs["problem_area"] for m in members}) > 1:
        problems.append(
            f"facilitator {fac.id!r} leads only {', '.join(sorted(fac.problem_areas))}:"
            " a group of several problem areas needs a facilitator who leads any"
        )
    return problems


def _weekly_starts(inp: PlanningInput, group: dict, fac: Facilitator) -> tuple[tuple, list[str]]:
    """UTC start of each week's session, or the reasons the slot itself is invalid."""
    tz, day = group.get("timezone", fac.timezone), str(group.get("day", "")).lower()
    if tz != fac.timezone:
        return (), [f"timezone {tz!r} is not the facilitator's ({fac.timezone})"]
    try:
        start = parse_hhmm(str(group.get("start")))
    except ValueError as exc:
        return (), [f"start: {exc}"]
    if day not in DAYS:
        return (), [f"day {group.get('day')!r} is not one of {', '.join(DAYS)}"]
    if start % inp.policy.slot_step_minutes:
        return (), [f"start {group['start']} is not on the {inp.policy.slot_step_minutes}-minute grid"]
    starts = slot_utc_starts(inp.policy, tz, DAYS.index(day), start)
    if starts is None:
        return (), [f"{day} {group['start']} {tz} is skipped or repeated by a clock change in the cycle"]
    return starts, []


def _availability(inp: PlanningInput, group: dict, fac: Facilitator, starts: tuple) -> list[str]:
    people = [("facilitator", fac), *(("member", m) for m in _members(inp, group))]
    return [
        f"{role} {p.id!r} is not free for the whole session on {miss}"
        for role, p in people
        if (miss := _first_miss(inp, p, starts))
    ]


def _first_miss(inp: PlanningInput, person, starts: tuple) -> str | None:
    intervals = week_intervals(person.windows)
    for utc_start in starts:
        if not inside(intervals, *_span(utc_start, inp.policy.session_minutes, person.timezone)):
            return utc_start.astimezone(zone(person.timezone)).strftime("%Y-%m-%d %H:%M %Z")
    return None


@lru_cache(maxsize=8192)
def _span(utc_start: datetime, minutes: int, tz_name: str) -> tuple[int, int]:
    """local_span, once per session and zone: a group's members mostly share a few zones."""
    return local_span(utc_start, minutes, zone(tz_name))


def _against_others(inp: PlanningInput, group: dict, fac: Facilitator, starts: tuple, others: list) -> list:
    mine = set(group.get("member_ids", []))
    problems = [
        f"member {i!r} is already in another group"
        for o in others
        for i in o.get("member_ids", [])
        if i in mine
    ]
    led = [o for o in others if o.get("facilitator_id") == fac.id]
    if (count := len(led) + 1 + len(fac.existing)) > fac.max_groups:
        also = f", {len(fac.existing)} of them already" if fac.existing else ""
        problems.append(f"facilitator {fac.id!r} would lead {count} groups{also} (max {fac.max_groups})")
    if starts and any(_weekly_starts(inp, o, fac)[0] and _clash(inp, fac, group, o) for o in led):
        problems.append(f"facilitator {fac.id!r} has another group at an overlapping time")
    return problems + [
        f"facilitator {fac.id!r} already leads group {e.label} at an overlapping time"
        for e in fac.existing
        if starts and _clash_existing(inp, fac, group, starts, e)
    ]


def _weekly(inp: PlanningInput, fac: Facilitator, group: dict) -> ExistingGroup:
    """A valid proposed group (it meets in its facilitator's zone) as a weekly group."""
    day, start = DAYS.index(str(group["day"]).lower()), parse_hhmm(str(group["start"]))
    return ExistingGroup(None, day, start, fac.timezone, inp.policy.session_minutes)


def _clash(inp: PlanningInput, fac: Facilitator, group: dict, other: dict) -> bool:
    """Commit's rule between two groups of one facilitator: their weekly sessions meet in some week."""
    first = inp.policy.first_session_date
    return weekly_clash(_weekly(inp, fac, group), _weekly(inp, fac, other), first)


def _clash_existing(inp: PlanningInput, fac: Facilitator, group: dict, starts: tuple, existing) -> bool:
    if existing.dates is None:
        return weekly_clash(existing, _weekly(inp, fac, group), inp.policy.first_session_date)
    return dated_clash(existing, starts, inp.policy.session_minutes)
