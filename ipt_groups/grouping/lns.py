"""Large-neighbourhood search by attribute bucket: re-solve one or two buckets at a time with CP-SAT.

Buckets only interact through facilitators, so a bucket's subproblem (its members, its pairs, and the
facilitators' capacity left by every other group) is small and CP-SAT solves it in milliseconds; pairing
buckets that share facilitators lets a facilitator move to where they place more members.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict

from ipt_groups.grouping.pairs import Context, FacilitatorState, Group, Pair
from ipt_groups.grouping.solver import score, solve

_WORK_PER_SOLVE = 0.5  # CP-SAT deterministic seconds per neighbourhood
_MAX_ROUNDS = 4


def improve(ctx: Context, pairs: list[Pair], state: FacilitatorState, groups: list[Group], budget, deadline):
    """Improve `groups` by re-solving neighbourhoods until a round finds nothing or the budget runs out."""
    by_bucket: dict[tuple, list[Pair]] = defaultdict(list)
    for p in pairs:
        by_bucket[p.bucket].append(p)
    statuses: Counter = Counter()
    for _ in range(_MAX_ROUNDS):
        improved = False
        for hood in neighbourhoods(by_bucket):
            if budget <= 0 or time.perf_counter() > deadline:
                return groups, statuses
            groups, better, status, used = _resolve(ctx, by_bucket, hood, state, groups, deadline)
            improved, budget = improved or better, budget - used
            statuses[status] += 1
        if not improved:
            break
    return groups, statuses


def neighbourhoods(by_bucket: dict[tuple, list[Pair]]) -> list[tuple]:
    """Each bucket alone, then each bucket with the bucket it shares most facilitators with."""
    facs = {b: {f for p in ps for f in p.facilitators} for b, ps in by_bucket.items()}
    buckets = sorted(by_bucket, key=lambda b: (-len(by_bucket[b]), repr(b)))
    hoods: list[tuple] = [(b,) for b in buckets]
    for b in buckets:
        shared = [(len(facs[b] & facs[o]), repr(o), o) for o in buckets if o != b and facs[b] & facs[o]]
        if shared:
            hood = tuple(sorted((b, max(shared)[2]), key=repr))
            hoods += [hood] if hood not in hoods else []
    return hoods


def _resolve(ctx: Context, by_bucket, hood: tuple, state: FacilitatorState, groups: list[Group], deadline):
    inside = [g for g in groups if g.pair.bucket in hood]
    outside = [g for g in groups if g.pair.bucket not in hood]
    sub_pairs = [p for b in hood for p in by_bucket[b]]
    if score(ctx, inside)[0] == len({m for p in sub_pairs for m in p.members}):
        return groups, False, "skipped", 0.0  # everyone reachable here is already placed
    sub_state = state.copy()
    for g in outside:
        sub_state.take(g.facilitator, ctx.span(g.pair.slot))
    found, status, _, used = solve(
        ctx, sub_pairs, sub_state, inside, _WORK_PER_SOLVE, deadline - time.perf_counter()
    )
    if found is None or score(ctx, found) <= score(ctx, inside):
        return groups, False, status, used
    return outside + found, True, status, used
