"""Augmenting paths with the open groups fixed: place a waiting member by shifting others along a chain.

With the groups fixed, placing members is a matching problem: a waiting member joins a full group if one
of its members can move to another group, and so on until a group with room. Groups only grow at the
chain's end, so every group keeps at least min_size members.
"""

from __future__ import annotations

from collections import defaultdict, deque

from ipt_groups.grouping.pairs import Context, Group, Pair


def augment(ctx: Context, pairs: list[Pair], groups: list[Group]) -> int:
    """Place waiting members, longest-waiting first, along shortest chains; returns how many were placed."""
    fits: dict[int, list[int]] = defaultdict(list)  # member -> indices of groups whose pair they fit
    at_pair: dict[int, list[int]] = defaultdict(list)
    for k, g in enumerate(groups):
        at_pair[id(g.pair)].append(k)
    for p in pairs:
        for m in p.members:
            fits[m] += at_pair[id(p)]
    placed = {m for g in groups for m in g.members}
    count = 0
    for m in sorted(set(fits) - placed, key=ctx.rank.__getitem__):
        path = _chain(ctx, groups, fits, m)
        if path is not None:
            _apply(groups, path)
            count += 1
    return count


def _chain(ctx: Context, groups: list[Group], fits, start: int) -> list[tuple[int, int]] | None:
    """Shortest chain [(group, member moving out of the previous group into it), ...] ending with room."""
    parent: dict[int, tuple[int | None, int]] = {}
    queue: deque[int] = deque()
    for k in fits[start]:
        if k not in parent:
            parent[k] = (None, start)
            queue.append(k)
    while queue:
        k = queue.popleft()
        if len(groups[k].members) < ctx.policy.max_size:
            return _path(parent, k)
        for x in groups[k].members:
            for k2 in fits[x]:
                if k2 not in parent:
                    parent[k2] = (k, x)
                    queue.append(k2)
    return None


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
