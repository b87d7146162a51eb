"""Constructive formation: the naive greedy baseline and the engine's smarter starting solution."""

from __future__ import annotations

import heapq
import random
import time
from collections import defaultdict

from ipt_groups.formation.engine.augment import augment
from ipt_groups.formation.engine.pairs import Context, FacilitatorState, Group, Pair
from ipt_groups.formation.engine.solver import score


def greedy(ctx: Context, pairs: list[Pair], state: FacilitatorState) -> list[Group]:
    """Naive formation: repeatedly open a group at the fullest pair, longest-waiting members first."""
    return _open_groups(ctx, pairs, state, smart=False)


def construct(ctx: Context, pairs: list[Pair], state: FacilitatorState) -> list[Group]:
    """Fullest pair first, but members with fewest options and the least flexible facilitator first;
    then leftover members placed through chains of moves, and groups opened by borrowing members."""
    groups = _open_groups(ctx, pairs, state, smart=True)
    augment(ctx, pairs, groups)
    while _borrow(ctx, pairs, state, groups):
        augment(ctx, pairs, groups)
    return groups


def construct_best(ctx: Context, pairs: list[Pair], state: FacilitatorState, tries: int, until: float):
    """The best of `tries` constructions: the pairs' own order, then seeded shuffles, which change how
    ties are broken (stopping early at wall-clock time `until`)."""
    rng, order = random.Random(5), list(pairs)
    best = construct(ctx, order, state.copy())
    for _ in range(tries - 1):
        if time.perf_counter() > until:
            break
        rng.shuffle(order)
        best = max(best, construct(ctx, order, state.copy()), key=lambda g: score(ctx, g))
    return best


def _index(pairs: list[Pair]) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    member_pairs: dict[int, list[int]] = defaultdict(list)
    fac_pairs: dict[int, list[int]] = defaultdict(list)
    for i, p in enumerate(pairs):
        for m in p.members:
            member_pairs[m].append(i)
        for f in p.facilitators:
            fac_pairs[f].append(i)
    return member_pairs, fac_pairs


def _open_groups(ctx: Context, pairs: list[Pair], state: FacilitatorState, smart: bool) -> list[Group]:
    lo = ctx.policy.min_size
    member_pairs, fac_pairs = _index(pairs)
    spans = [ctx.span(p.slot) for p in pairs]
    count = [len(p.members) for p in pairs]
    heap = [(-c, i) for i, c in enumerate(count)]
    heapq.heapify(heap)
    placed: set[int] = set()
    groups: list[Group] = []
    while heap:
        neg, i = heapq.heappop(heap)
        if -neg != count[i]:
            if count[i] >= lo:
                heapq.heappush(heap, (-count[i], i))
            continue
        index = (member_pairs, fac_pairs, count, spans) if smart else None
        group = _open_one(ctx, pairs, i, state, placed, index)
        if group is None:
            continue  # facilitators only get busier, so this pair is closed for good
        groups.append(group)
        placed.update(group.members)
        for m in group.members:
            for j in member_pairs[m]:
                count[j] -= 1
        if count[i] >= lo:
            heapq.heappush(heap, (-count[i], i))
    return groups


def _open_one(ctx: Context, pairs: list[Pair], i: int, state, placed: set[int], smart) -> Group | None:
    pair, span = pairs[i], ctx.span(pairs[i].slot)
    facs = [f for f in pair.facilitators if state.free(f, span)]
    if not facs:
        return None
    free = [m for m in pair.members if m not in placed]
    if smart:
        member_pairs, fac_pairs, count, spans = smart
        free.sort(key=lambda m: (len(member_pairs[m]), ctx.rank[m]))
        facs.sort(key=lambda f: _flexibility(ctx, spans, fac_pairs[f], count, state, f))
    state.take(facs[0], span)
    return Group(pair, facs[0], free[: ctx.policy.max_size])


def _flexibility(ctx: Context, spans: list, options: list[int], count: list[int], state, f: int) -> int:
    """How many waiting members a facilitator could still serve elsewhere (keep flexible ones for later)."""
    lo = ctx.policy.min_size
    return sum(count[j] for j in options if count[j] >= lo and state.free(f, spans[j]))


def _borrow(ctx: Context, pairs: list[Pair], state: FacilitatorState, groups: list[Group]) -> bool:
    """Open a group where a free facilitator and some unplaced members lack only a few members, taking
    them from groups larger than min_size whose members also fit there; whether any group opened."""
    lo, hi, opened = ctx.policy.min_size, ctx.policy.max_size, len(groups)
    group_of = {m: g for g in groups for m in g.members}
    for pair in sorted(pairs, key=lambda p: (-sum(m not in group_of for m in p.members), p.index)):
        waiting = [m for m in pair.members if m not in group_of]
        donors = [m for m in pair.members if m in group_of and len(group_of[m].members) > lo]
        if not waiting or len(waiting) + len(donors) < lo:
            continue
        facs = [f for f in pair.facilitators if state.free(f, ctx.span(pair.slot))]
        taken = _take_from_donors(ctx, donors, group_of, lo - len(waiting)) if facs else None
        if taken is None:
            continue
        state.take(facs[0], ctx.span(pair.slot))
        group = Group(pair, facs[0], (waiting + taken)[:hi])
        groups.append(group)
        group_of.update({m: group for m in group.members})
    return len(groups) > opened


def _take_from_donors(ctx: Context, donors: list[int], group_of: dict, need: int) -> list[int] | None:
    """Move `need` members out of groups that stay at or above min_size (shortest-waiting first)."""
    taken: list[int] = []
    for m in sorted(donors, key=lambda m: (-len(group_of[m].members), -ctx.rank[m])):
        if len(taken) >= need:
            break
        if len(group_of[m].members) > ctx.policy.min_size:
            group_of[m].members.remove(m)
            taken.append(m)
    if len(taken) < need:
        for m in taken:  # not enough: put them back
            group_of[m].members.append(m)
        return None
    return taken
