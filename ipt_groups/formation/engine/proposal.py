"""propose_groups and greedy_groups: phases of formation, balancing, and the output document."""

from __future__ import annotations

import logging
import math
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

from ipt_groups.formation.engine.augment import prefer_waiting
from ipt_groups.formation.engine.checking import check_group
from ipt_groups.formation.engine.heuristics import construct_best, greedy
from ipt_groups.formation.engine.lns import improve
from ipt_groups.formation.engine.model import MATCHABLE, PlanningInput
from ipt_groups.formation.engine.pairs import Context, Group, Pair, bucket_key, build_pairs
from ipt_groups.formation.engine.reasons import explain
from ipt_groups.formation.engine.relocate import relocate
from ipt_groups.formation.engine.slots import zone
from ipt_groups.formation.engine.solver import score
from ipt_groups.vocabulary import DAYS

_POST_PROCESS_SHARE = 0.3  # of the time limit, kept back for balancing and the output
# constructions tried: _TRY_MEMBERS per second of the time limit / reachable members, within a share of it
_MAX_TRIES, _TRY_MEMBERS, _TRY_SHARE = 8, 1_000, 0.15
_MOVES = 1000  # relocation moves per second of the time limit: repeatable, unless the deadline comes first
_WORK_SHARE = 0.5  # of the time limit, as CP-SAT deterministic seconds (about wall seconds, repeatable)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Budget:
    """How much the engine searches: `scale` seconds' worth of constructions, relocation moves and CP-SAT
    deterministic time (repeatable), within a wall-clock limit of `seconds` (None: no limit, so the same
    input always gives the same proposal, however busy the machine)."""

    scale: float
    seconds: float | None = None

    @classmethod
    def of(cls, policy) -> Budget:
        """The policy's time_limit_s as both: what the API, the CLI and the benchmark use."""
        return cls(policy.time_limit_s, policy.time_limit_s)

    def deadline(self, started: float, share: float) -> float:
        return math.inf if self.seconds is None else started + self.seconds * share


def propose_groups(inp: PlanningInput, budget: Budget | None = None) -> dict:
    """Form groups that place the most members (then the longest-waiting, then balanced sizes)."""
    return _propose(inp, use_solver=True, budget=budget or Budget.of(inp.policy))


def greedy_groups(inp: PlanningInput) -> dict:
    """The naive baseline: open a group at the fullest slot first, filling it longest-waiting first."""
    return _propose(inp, use_solver=False, budget=Budget.of(inp.policy))


def match_phases(inp: PlanningInput) -> list[tuple[str, ...]]:
    """The attribute sets matched in turn: the policy's, then without problem area when mixing is on."""
    match = tuple(inp.policy.match_on)
    if inp.policy.mix_problem_areas and "problem_area" in match:
        return [match, tuple(a for a in match if a != "problem_area")]
    return [match]


def _propose(inp: PlanningInput, use_solver: bool, budget: Budget) -> dict:
    started = time.perf_counter()
    deadline = budget.deadline(started, 1 - _POST_PROCESS_SHARE)
    ctx, state = Context(inp), None
    state = ctx.fresh_state()
    groups: list[Group] = []
    statuses, bounds, pair_counts, moves = [], [], [], []
    phases, viable = match_phases(inp), None
    for match in phases:
        placed = {m for g in groups for m in g.members}
        left = [m.index for m in inp.members if ctx.member_fit[m.index] and m.index not in placed]
        pairs = build_pairs(ctx, left, bucket_key(match), state)
        found, status, bound, moved = _form(ctx, pairs, state, (budget, deadline), use_solver)
        for g in found:
            state.take(g.facilitator, ctx.span(g.pair.slot))
        groups += found
        statuses.append(status)
        bounds.append(bound)
        pair_counts.append(len(pairs))
        moves.append(moved)
        if len(phases) == 1:  # built with every facilitator free: the pairs the reasons are judged by
            viable = {m for p in pairs for m in p.members}
    balance(ctx, groups)
    groups, repaired = keep_valid(ctx, groups)
    extra = {"solver_status": statuses, "relocation_moves": moves, "reachable": _sum_or_none(bounds),
             "pairs": pair_counts, "repaired": repaired}  # fmt: skip
    return _document(ctx, groups, phases[-1], started, extra, viable)


def _form(ctx: Context, pairs: list[Pair], state, limits: tuple[Budget, float], use_solver: bool):
    """Greedy baseline, or: a constructive start, the relocation search, CP-SAT neighbourhoods with the
    budget left, and the waiting pass. Returns (groups, CP-SAT statuses, reachable, relocation moves)."""
    reachable = len({m for p in pairs for m in p.members})
    if not use_solver:
        return greedy(ctx, pairs, state.copy()), "greedy", reachable, 0
    (budget, deadline), scale = limits, limits[0].scale
    tries = max(1, min(_MAX_TRIES, int(_TRY_MEMBERS * scale) // max(reachable, 1)))
    until = budget.deadline(time.perf_counter(), _TRY_SHARE)
    found = max(
        greedy(ctx, pairs, state.copy()),
        construct_best(ctx, pairs, state, tries, until),
        key=lambda g: score(ctx, g),
    )
    moves = 0
    if score(ctx, found)[0] < reachable:
        found, moves = relocate(ctx, pairs, state, found, int(_MOVES * scale), deadline)
    if score(ctx, found)[0] == reachable:
        return found, "all_reachable_placed", reachable, moves
    found, statuses = improve(ctx, pairs, state, found, scale * _WORK_SHARE, deadline)
    prefer_waiting(ctx, pairs, found)
    return found, dict(sorted(statuses.items())), reachable, moves


def _sum_or_none(values: list) -> int | None:
    return None if any(v is None for v in values) else sum(values)


def balance(ctx: Context, groups: list[Group]) -> None:
    """Even out sizes within a bucket by moving members who also fit a smaller group's slot."""
    by_bucket: dict[tuple, list[Group]] = defaultdict(list)
    for g in groups:
        by_bucket[g.pair.bucket].append(g)
    allowed: dict[int, frozenset[int]] = {}
    for gs in by_bucket.values():
        for _ in range(len(gs) * ctx.policy.max_size):
            if not _move_one(gs, allowed):
                break


def _move_one(gs: list[Group], allowed: dict[int, frozenset[int]]) -> bool:
    order = sorted(gs, key=lambda g: len(g.members))
    for small in order:
        can_join = allowed.setdefault(id(small.pair), frozenset(small.pair.members))
        for big in reversed(order):
            if len(big.members) - len(small.members) < 2:
                break
            movable = [m for m in big.members if m in can_join]
            if movable:
                big.members.remove(movable[-1])
                small.members.append(movable[-1])
                return True
    return False


def keep_valid(ctx: Context, groups: list[Group]) -> tuple[list[Group], dict[str, int]]:
    """The engine's last step: check every group as commit will (check_group, against the groups kept
    before it and its facilitator's existing ones). One that breaks a rule goes to another facilitator of
    its pair who passes, or is dropped, its members left unplaced. Returns the groups and what was done."""
    kept: list[Group] = []
    led: dict[int, list[dict]] = defaultdict(list)  # facilitator -> documents of the groups kept
    placed: set[int] = set()
    done: Counter = Counter()
    for g in groups:
        found = None if placed & set(g.members) else _leader(ctx, g, led)
        if found is None:
            done["dropped_groups"] += 1
            log.warning("formation: dropped a group that breaks a rule at %s", g.pair.slot.label)
            continue
        f, doc = found
        done["reassigned"] += f != g.facilitator
        g.facilitator = f
        kept.append(g)
        led[f].append(doc)
        placed.update(g.members)
    return kept, {k: v for k, v in sorted(done.items()) if v}


def _leader(ctx: Context, g: Group, led: dict[int, list[dict]]) -> tuple[int, dict] | None:
    """The group's facilitator, else the first other of its pair, for whom the group breaks no rule."""
    for f in [g.facilitator, *(x for x in g.pair.facilitators if x != g.facilitator)]:
        doc = group_document(ctx, Group(g.pair, f, g.members))
        if not check_group(ctx.inp, doc, led[f]):
            return f, doc
    return None


def _document(ctx: Context, groups: list[Group], match, started: float, extra: dict, viable) -> dict:
    placed = {m for g in groups for m in g.members}
    unplaced = explain(ctx, [m.index for m in ctx.inp.members if m.index not in placed], match, viable)
    order = sorted(groups, key=lambda g: (g.pair.slot.index, g.facilitator))
    stats = {
        "members": len(ctx.inp.members),
        "facilitators": len(ctx.inp.facilitators),
        "placed": len(placed),
        "unplaced": len(unplaced),
        "groups": len(groups),
        "unplaced_by_reason": dict(sorted(Counter(u["reason"] for u in unplaced).items())),
        "buckets": len({bucket_key(ctx.policy.match_on)(m) for m in ctx.inp.members}),
        **extra,
        "seconds": round(time.perf_counter() - started, 3),
    }
    return {"groups": [group_document(ctx, g) for g in order], "unplaced": unplaced, "stats": stats}


def group_document(ctx: Context, g: Group) -> dict:
    """One group as plain data; attributes all members share are given, others are None."""
    slot = g.pair.slot
    members = [ctx.inp.members[m] for m in sorted(g.members, key=ctx.rank.__getitem__)]
    doc = {
        "facilitator_id": ctx.inp.facilitators[g.facilitator].id,
        "member_ids": [m.id for m in members],
        "day": DAYS[slot.day],
        "start": f"{slot.start // 60:02d}:{slot.start % 60:02d}",
        "timezone": slot.timezone,
        "first_session": slot.utc_starts[0].astimezone(zone(slot.timezone)).isoformat(),
        "size": len(members),
    }
    for attr in MATCHABLE:
        values = {m.attrs[attr] for m in members}
        doc[attr] = values.pop() if len(values) == 1 else None
    doc["mixed_problem_areas"] = len({m.attrs["problem_area"] for m in members}) > 1
    return doc
