"""Large-neighbourhood search: re-solve part of the problem at a time with CP-SAT, keeping the rest.

Buckets only interact through facilitators. A first pass re-solves each bucket alone, then each with the
bucket it shares most facilitators with (its members, its pairs, and the facilitators' capacity left by
every other group). A second pass frees the groups of a few facilitators who serve common buckets:
their groups may move anywhere, the other facilitators' groups stay open, and every member of the
buckets involved may move; this is what lets a facilitator go to where they place more members.
Facilitators are drawn from a seeded generator and limits are deterministic time, so runs repeat.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict

from ipt_groups.formation.engine.pairs import Context, FacilitatorState, Group, Pair
from ipt_groups.formation.engine.solver import score, solve

# CP-SAT deterministic seconds per neighbourhood: grows with its pairs, within bounds
_WORK_PER_PAIR, _MIN_WORK, _MAX_WORK = 0.004, 0.1, 1.0
_WALL_SHARE = 0.8  # of the time to the deadline, as CP-SAT's wall limit: it overruns on a busy machine
_FREE_START = 2  # facilitators freed at once in the second phase; grows after optimal solves
_MIN_SECONDS = 0.3  # a neighbourhood is not started closer to the deadline: building it alone takes time


def improve(ctx: Context, pairs: list[Pair], state: FacilitatorState, groups: list[Group], budget, deadline):
    """Improve `groups`: one pass over bucket neighbourhoods, then facilitator ones until the budget ends."""
    by_bucket: dict[tuple, list[Pair]] = defaultdict(list)
    for p in pairs:
        by_bucket[p.bucket].append(p)
    statuses: Counter = Counter()
    for hood in neighbourhoods(by_bucket):
        if budget <= 0 or time.perf_counter() > deadline - _MIN_SECONDS:
            return groups, statuses
        groups, _, status, used = _resolve(ctx, by_bucket, hood, state, groups, deadline)
        budget -= used
        statuses[status] += 1
    return _by_facilitators(ctx, by_bucket, state, groups, budget, deadline, statuses)


def _by_facilitators(ctx: Context, by_bucket, state, groups: list[Group], budget, deadline, statuses):
    """Free a few linked facilitators' groups at a time; every member of the buckets they serve may move."""
    fac_buckets: dict[int, set] = defaultdict(set)
    for b, ps in by_bucket.items():
        for p in ps:
            for f in p.facilitators:
                fac_buckets[f].add(b)
    rng, size, idle = random.Random(11), _FREE_START, 0
    facs = sorted(fac_buckets)
    while facs and budget > 0 and time.perf_counter() < deadline - _MIN_SECONDS and idle < 2 * len(facs):
        free = _pick_facilitators(rng, facs, fac_buckets, size)
        hood = tuple(sorted({b for f in free for b in fac_buckets[f]}, key=repr))
        groups, better, status, used = _resolve(
            ctx, by_bucket, hood, state, groups, deadline, frozenset(free)
        )
        budget, idle = budget - used, 0 if better else idle + 1
        statuses["f_" + status] += 1
        size = size + 1 if status in ("optimal", "skipped") else max(2, size - 1)
    return groups, statuses


def _pick_facilitators(rng: random.Random, facs: list[int], fac_buckets, size: int) -> list[int]:
    """A random facilitator and others, picked at random among those serving the same buckets."""
    chosen = [rng.choice(facs)]
    served = set(fac_buckets[chosen[0]])
    while len(chosen) < size:
        options = [f for f in facs if f not in chosen and fac_buckets[f] & served]
        if not options:
            break
        chosen.append(rng.choice(options))
        served |= fac_buckets[chosen[-1]]
    return chosen


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


def _resolve(ctx: Context, by_bucket, hood: tuple, state, groups: list[Group], deadline, free=None):
    inside = [g for g in groups if g.pair.bucket in hood]
    outside = [g for g in groups if g.pair.bucket not in hood]
    sub_pairs = [p for b in hood for p in by_bucket[b]]
    if score(ctx, inside)[0] == len({m for p in sub_pairs for m in p.members}):
        return groups, False, "skipped", 0.0  # everyone reachable here is already placed
    sub_state = state.copy()
    for g in outside:
        sub_state.take(g.facilitator, ctx.span(g.pair.slot))
    work = min(_MAX_WORK, max(_WORK_PER_PAIR * len(sub_pairs), _MIN_WORK))
    found, status, _, used = solve(
        ctx, sub_pairs, sub_state, inside, work, _WALL_SHARE * (deadline - time.perf_counter()), free
    )
    if found is None or score(ctx, found) <= score(ctx, inside):
        return groups, False, status, used
    return outside + found, True, status, used
