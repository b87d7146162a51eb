"""Constructive formation: the naive greedy baseline and the engine's smarter starting solution."""

from __future__ import annotations

import heapq
from collections import defaultdict

from ipt_groups.grouping.pairs import Context, FacilitatorState, Group, Pair


def greedy(ctx: Context, pairs: list[Pair], state: FacilitatorState) -> list[Group]:
    """Naive formation: repeatedly open a group at the fullest pair, longest-waiting members first."""
    return _open_groups(ctx, pairs, state, smart=False)


def construct(ctx: Context, pairs: list[Pair], state: FacilitatorState) -> list[Group]:
    """Fullest pair first, but members with fewest options and the least flexible facilitator first,
    then leftover members topped up into groups with room."""
    groups = _open_groups(ctx, pairs, state, smart=True)
    _top_up(ctx, pairs, groups)
    return groups


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
        group = _open_one(ctx, pairs, i, state, placed, (member_pairs, fac_pairs, count) if smart else None)
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
        member_pairs, fac_pairs, count = smart
        free.sort(key=lambda m: (len(member_pairs[m]), ctx.rank[m]))
        facs.sort(key=lambda f: _flexibility(ctx, pairs, fac_pairs[f], count, state, f))
    state.take(facs[0], span)
    return Group(pair, facs[0], free[: ctx.policy.max_size])


def _flexibility(ctx: Context, pairs: list[Pair], options: list[int], count: list[int], state, f: int) -> int:
    """How many waiting members a facilitator could still serve elsewhere (keep flexible ones for later)."""
    lo = ctx.policy.min_size
    return sum(count[j] for j in options if count[j] >= lo and state.free(f, ctx.span(pairs[j].slot)))


def _top_up(ctx: Context, pairs: list[Pair], groups: list[Group]) -> None:
    """Put each leftover member, longest-waiting first, into the smallest group with room at their slots."""
    member_pairs, _ = _index(pairs)
    position = {id(p): i for i, p in enumerate(pairs)}
    by_pair: dict[int, list[Group]] = defaultdict(list)
    for g in groups:
        by_pair[position[id(g.pair)]].append(g)
    placed = {m for g in groups for m in g.members}
    for m in sorted(set(member_pairs) - placed, key=ctx.rank.__getitem__):
        room = [g for j in member_pairs[m] for g in by_pair[j] if len(g.members) < ctx.policy.max_size]
        if room:
            min(room, key=lambda g: len(g.members)).members.append(m)
