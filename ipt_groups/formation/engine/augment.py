"""Augmenting paths with the open groups fixed: place a waiting member by shifting others along a chain.

With the groups fixed, placing members is a matching problem: a waiting member joins a full group if one
of its members can move to another group, and so on until a group with room. Groups only grow at the
chain's end, so every group keeps at least min_size members.
"""

from __future__ import annotations

from collections import defaultdict, deque

from ipt_groups.formation.engine.pairs import Context, Group, Pair


def augment(ctx: Context, pairs: list[Pair], groups: list[Group]) -> int:
    """Place waiting members, longest-waiting first, along shortest chains; returns how many were placed."""
    fits = _fits(pairs, groups)
    placed = {m for g in groups for m in g.members}
    count = 0
    for m in sorted(set(fits) - placed, key=ctx.rank.__getitem__):
        path = _chain(ctx, groups, fits, m)
        if path is not None:
            _apply(groups, path)
            count += 1
    return count


def prefer_waiting(ctx: Context, pairs: list[Pair], groups: list[Group]) -> int:
    """With the same groups and as many placed, place the longest-waiting: each waiting member, longest
    waiting first, takes a place along a chain whose last group lets go of its shortest-waiting member,
    if that member has waited less. Returns how many were exchanged."""
    fits = _fits(pairs, groups)
    group_of = {m: k for k, g in enumerate(groups) for m in g.members}
    latest = {}  # bucket -> rank of its shortest-waiting placed member, to skip hopeless searches
    for g in groups:
        latest[g.pair.bucket] = max([latest.get(g.pair.bucket, -1)] + [ctx.rank[m] for m in g.members])
    bucket_of = {m: p.bucket for p in pairs for m in p.members}
    count = 0
    waiting = sorted((m for m in fits if m not in group_of and fits[m]), key=ctx.rank.__getitem__)
    for m in waiting:
        if ctx.rank[m] > latest.get(bucket_of[m], -1):
            continue
        parent, _ = _reach_all(groups, fits, m)
        ends = [(ctx.rank[x], k, x) for k in parent for x in groups[k].members if ctx.rank[x] > ctx.rank[m]]
        if not ends:
            continue
        _, end, out = max(ends)
        groups[end].members.remove(out)
        del group_of[out]
        path = _path(parent, end)
        _apply(groups, path)
        group_of.update({mover: k for k, mover in path})
        count += 1
        members = [x for g in groups if g.pair.bucket == bucket_of[m] for x in g.members]
        latest[bucket_of[m]] = max(ctx.rank[x] for x in members)
    return count


def _fits(pairs: list[Pair], groups: list[Group]) -> dict[int, list[int]]:
    """Member -> indices of the groups whose pair they fit."""
    fits: dict[int, list[int]] = defaultdict(list)
    at_pair: dict[int, list[int]] = defaultdict(list)
    for k, g in enumerate(groups):
        at_pair[id(g.pair)].append(k)
    for p in pairs:
        for m in p.members:
            fits[m] += at_pair[id(p)]
    return fits


def _reach_all(groups: list[Group], fits, start: int, room: int = 0) -> tuple[dict, int | None]:
    """Breadth-first over the groups `start` can reach along chains: parent links of the shortest chains,
    and the first group reached with fewer than `room` members (None if none; room 0 reaches all)."""
    parent: dict[int, tuple[int | None, int]] = {}
    queue: deque[int] = deque()
    for k in fits[start]:
        if k not in parent:
            parent[k] = (None, start)
            queue.append(k)
    while queue:
        k = queue.popleft()
        if len(groups[k].members) < room:
            return parent, k
        for x in groups[k].members:
            for k2 in fits[x]:
                if k2 not in parent:
                    parent[k2] = (k, x)
                    queue.append(k2)
    return parent, None


def _chain(ctx: Context, groups: list[Group], fits, start: int) -> list[tuple[int, int]] | None:
    """Shortest chain [(group, member moving out of the previous group into it), ...] ending with room."""
    parent, end = _reach_all(groups, fits, start, ctx.policy.max_size)
    return None if end is None else _path(parent, end)


def _path(parent: dict, end: int) -> list[tuple[int, int]]:
    path, k = [], end
    while k is not None:
        prev, mover = parent[k]
        path.append((k, mover))
        k = prev
    return path[::-1]


def _apply(groups: list[Group], path: list[tuple[int, int]]) -> None:
    prev = None
    for k, mover in path:
        if prev is not None:
            groups[prev].members.remove(mover)
        groups[k].members.append(mover)
        prev = k
