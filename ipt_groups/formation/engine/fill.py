"""Open seats in groups that exist already (rolling intake, and a seat given up by a member who
declined or did not answer): which waitlisted members suit a group, best first. Pure: the rules are
formation's (the group's bucket, every remaining session inside the member's availability, a
facilitator who can lead the member), the order is the engine's (who has waited longest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ipt_groups.formation.engine.model import Member
from ipt_groups.formation.engine.slots import inside, local_span, week_intervals, zone


@dataclass(frozen=True)
class OpenGroup:
    """A group with `seats` open: its bucket (`attrs`: None means any, a mixed group's problem area),
    the UTC starts of the sessions a joiner would attend, and what its facilitator can lead."""

    id: int | str
    attrs: dict[str, str | None]
    starts: tuple[datetime, ...]
    session_minutes: int
    seats: int
    facilitator_languages: frozenset[str]
    facilitator_areas: frozenset[str]  # empty: any
    excluded: frozenset = frozenset()  # members offered this group before: never offered it again


def suits(group: OpenGroup, member: Member, match_on: tuple[str, ...]) -> bool:
    """Whether the member shares the group's bucket and its facilitator can lead them."""
    for attr in match_on:
        wanted = group.attrs.get(attr)
        if wanted is not None and member.attrs.get(attr) != wanted:
            return False
    area, language = member.combo
    if group.facilitator_areas and area not in group.facilitator_areas:
        return False
    return language in group.facilitator_languages


def free_for(group: OpenGroup, member: Member) -> bool:
    """Whether every session the member would attend lies inside their weekly availability."""
    if not group.starts:
        return False
    intervals = week_intervals(member.windows)
    tz = zone(member.timezone)
    return all(inside(intervals, *local_span(s, group.session_minutes, tz)) for s in group.starts)


def candidates(group: OpenGroup, members: list[Member], match_on: tuple[str, ...]) -> list[Member]:
    """The members who may take a seat in the group, who has waited longest first."""
    fitting = [
        m for m in members if m.id not in group.excluded and suits(group, m, match_on) and free_for(group, m)
    ]
    return sorted(fitting, key=lambda m: (m.waitlisted_at, str(m.id)))


def fill_open_groups(
    groups: list[OpenGroup], members: list[Member], match_on: tuple[str, ...]
) -> dict[int | str, list[int | str]]:
    """Seats for waitlisted members in open groups, before any new group is formed: the group that
    starts soonest chooses first, each taking the longest-waiting members who suit it."""
    taken: set = set()
    fills: dict = {}
    for group in sorted(groups, key=_soonest):
        free = [m for m in members if m.id not in taken]
        chosen = [m.id for m in candidates(group, free, match_on)[: max(0, group.seats)]]
        if chosen:
            fills[group.id] = chosen
            taken.update(chosen)
    return fills


def _soonest(group: OpenGroup) -> tuple[float, str]:
    return (group.starts[0].timestamp() if group.starts else float("inf"), str(group.id))
