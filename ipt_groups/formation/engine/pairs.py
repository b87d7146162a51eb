"""The search space: members bucketed by shared attributes; (bucket, slot, facilitator class) pairs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ipt_groups.formation.engine.existing import Calendar
from ipt_groups.formation.engine.model import Member, PlanningInput
from ipt_groups.formation.engine.slots import Slot, SlotTable, spans_overlap


@dataclass(frozen=True)
class Pair:
    """Where groups could meet: members of one bucket free at one slot, led by one class of facilitators.

    A class is the set of (problem_area, language) combinations its facilitators can all lead, so every
    listed facilitator can lead any subset of `members`.
    """

    index: int
    bucket: tuple
    slot: Slot
    accepts: frozenset
    facilitators: tuple[int, ...]
    members: tuple[int, ...]  # member indices, longest-waiting first


@dataclass
class Group:
    """A formed group: the pair it meets in, its facilitator and its members (indices)."""

    pair: Pair
    facilitator: int
    members: list[int]


@dataclass
class FacilitatorState:
    """Remaining capacity and committed session spans of every facilitator."""

    capacity: list[int]
    busy: list[list[tuple[int, int]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.busy = self.busy or [[] for _ in self.capacity]

    def free(self, f: int, span: tuple[int, int]) -> bool:
        return self.capacity[f] > 0 and not any(spans_overlap(span, b) for b in self.busy[f])

    def take(self, f: int, span: tuple[int, int]) -> None:
        self.capacity[f] -= 1
        self.busy[f].append(span)

    def release(self, f: int, span: tuple[int, int]) -> None:
        self.capacity[f] += 1
        self.busy[f].remove(span)

    def copy(self) -> FacilitatorState:
        return FacilitatorState(list(self.capacity), [list(b) for b in self.busy])


class Context:
    """What is derived once per input: the slot grid, each person's fitting slots and wait ranks, and
    where each facilitator can lead: free, in their own zone, clear of the groups they lead already."""

    def __init__(self, inp: PlanningInput):
        self.inp, self.policy = inp, inp.policy
        group_tzs = [f.timezone for f in inp.facilitators] or [m.timezone for m in inp.members]
        self.table = SlotTable(inp.policy, group_tzs)
        waiting = sorted(inp.members, key=lambda m: (m.waitlisted_at, m.index))
        self.rank = [0] * len(inp.members)
        for r, m in enumerate(waiting):
            self.rank[m.index] = r
        self.member_fit = [self.table.fitting(m.timezone, m.windows) for m in inp.members]
        self.fac_at_slot: dict[int, list[int]] = defaultdict(list)
        calendar = Calendar(inp.policy)
        for f in inp.facilitators:
            fitting = self.table.fitting(f.timezone, f.windows) if f.capacity > 0 else ()
            # a group meets in its facilitator's zone
            own = [self.table.slots[s] for s in fitting if self.table.slots[s].timezone == f.timezone]
            blocked = calendar.blocked(f, own, self.span) if f.existing else set()
            for slot in own:
                if slot.index not in blocked:
                    self.fac_at_slot[slot.index].append(f.index)

    def span(self, slot: Slot) -> tuple[int, int]:
        return self.table.local_week_span(slot)

    def fresh_state(self) -> FacilitatorState:
        return FacilitatorState([f.capacity for f in self.inp.facilitators])


def bucket_key(match_on: Iterable[str]) -> Callable[[Member], tuple]:
    """The bucket of a member: its values of the matched attributes (missing is a value of its own)."""
    names = tuple(match_on)
    return lambda m: tuple(m.attrs[n] for n in names)


def members_by_bucket(ctx: Context, members: Iterable[int], key) -> dict[tuple, list[int]]:
    """Member indices grouped by bucket, longest-waiting first within each."""
    buckets: dict[tuple, list[int]] = defaultdict(list)
    for m in sorted(members, key=ctx.rank.__getitem__):
        buckets[key(ctx.inp.members[m])].append(m)
    return buckets


def build_pairs(ctx: Context, members: Iterable[int], key, state: FacilitatorState) -> list[Pair]:
    """Every pair with at least min_size members and a free facilitator who can lead them."""
    pairs: list[Pair] = []
    buckets = members_by_bucket(ctx, members, key)
    for bucket in sorted(buckets, key=repr):
        at_slot: dict[int, list[int]] = defaultdict(list)
        for m in buckets[bucket]:
            for s in ctx.member_fit[m]:
                at_slot[s].append(m)
        for s in sorted(at_slot):
            if len(at_slot[s]) >= ctx.policy.min_size:
                pairs.extend(_pairs_at(ctx, bucket, ctx.table.slots[s], at_slot[s], state, len(pairs)))
    return pairs


def _pairs_at(ctx: Context, bucket, slot: Slot, members: list[int], state, offset: int) -> list[Pair]:
    combos = {ctx.inp.members[m].combo for m in members}
    classes: dict[frozenset, list[int]] = defaultdict(list)
    for f in ctx.fac_at_slot.get(slot.index, ()):
        if state.free(f, ctx.span(slot)):
            for accepted in _classes(ctx.inp.facilitators[f], combos):
                classes[accepted].append(f)
    out = []
    for accepted, facs in sorted(classes.items(), key=lambda kv: kv[1]):
        chosen = tuple(m for m in members if ctx.inp.members[m].combo in accepted)
        if len(chosen) >= ctx.policy.min_size:
            out.append(Pair(offset + len(out), bucket, slot, accepted, tuple(facs), chosen))
    return out


def _classes(fac, combos: set) -> list[frozenset]:
    """The member combinations a facilitator can lead together. One who leads only some problem areas
    leads groups of one area (commit gives a mixed group to a facilitator who leads any area)."""
    accepted = frozenset(c for c in combos if fac.accepts(c))
    if not fac.problem_areas:
        return [accepted] if accepted else []
    areas = sorted({area for area, _ in accepted})
    return [frozenset(c for c in accepted if c[0] == area) for area in areas]
