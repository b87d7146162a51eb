"""CP-SAT model of group formation over pairs, with interchangeable members aggregated into types.

OR-Tools is imported where a model is built, not with this module: its CP-SAT module loads pandas,
about half a second of every process start (web workers, the scheduler, the CLI) that never solves.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ipt_groups.formation.engine.pairs import Context, FacilitatorState, Group, Pair
from ipt_groups.formation.engine.slots import WEEK

if TYPE_CHECKING:
    from ortools.sat.python import cp_model


@dataclass
class _Model:
    """The CP-SAT model and its variables."""

    model: cp_model.CpModel
    types: dict[tuple[int, ...], list[int]]  # pairs a type can join -> its members, longest-waiting first
    load: dict[tuple[tuple[int, ...], int], cp_model.IntVar]  # (type, pair) -> members of the type there
    taken: dict[tuple[int, ...], list[cp_model.IntVar]]  # type -> one flag per member, in wait order
    opened: dict[tuple[int, int], cp_model.IntVar]  # (pair, facilitator) -> group opened


def wait_weights(ctx: Context, members: list[int]) -> dict[int, int]:
    """A 1..100 weight per member, highest for the longest-waiting, so waiting breaks ties in placement."""
    n = max(len(ctx.rank), 1)
    return {m: 1 + (n - 1 - ctx.rank[m]) * 100 // n for m in members}


def solve(
    ctx: Context,
    pairs: list[Pair],
    state: FacilitatorState,
    hint: list[Group],
    work: float,
    seconds: float,
    free: frozenset[int] | None = None,
):
    """Optimise placement (then waiting time) over `pairs`; returns (groups, status, bound, work used).

    `work` is CP-SAT's deterministic time limit (same answer every run); `seconds` a wall-clock safety net.
    With `free`, only those facilitators' groups may change; the hint's other groups stay open (their
    members may still move).
    """
    kept = (
        None
        if free is None
        else (free, {(id(g.pair), g.facilitator) for g in hint if g.facilitator not in free})
    )
    from ortools.sat.python import cp_model

    m = _build(ctx, pairs, state, kept)
    _add_hint(m, pairs, hint)
    solver = _solver(work, seconds)
    status = solver.Solve(m.model)
    used = solver.deterministic_time
    names = {cp_model.OPTIMAL: "optimal", cp_model.FEASIBLE: "feasible", cp_model.INFEASIBLE: "infeasible"}
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, names.get(status, "unknown"), None, used
    bound = int(solver.BestObjectiveBound() // _big(ctx, m))
    return _extract(ctx, pairs, m, solver), names[status], bound, used


def _solver(work: float, seconds: float) -> cp_model.CpSolver:
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(seconds, 0.01)
    solver.parameters.max_deterministic_time = max(work, 0.01)
    solver.parameters.num_workers = 1  # single worker + deterministic limit -> same answer every run
    solver.parameters.random_seed = 7
    solver.parameters.cp_model_probing_level = 0  # probing adds ~10^5 clauses here and eats the budget
    return solver


def score(ctx: Context, groups: list[Group]) -> tuple[int, int]:
    """(members placed, their total wait weight): compared lexicographically."""
    members = [m for g in groups for m in g.members]
    return len(members), sum(wait_weights(ctx, members).values())


def _big(ctx: Context, m: _Model) -> int:
    return sum(wait_weights(ctx, [x for t in m.types.values() for x in t]).values()) + 1


def _build(ctx: Context, pairs: list[Pair], state: FacilitatorState, kept: set | None = None) -> _Model:
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    member_pairs: dict[int, list[int]] = defaultdict(list)
    for i, p in enumerate(pairs):
        for x in p.members:
            member_pairs[x].append(i)
    types: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for x in sorted(member_pairs, key=ctx.rank.__getitem__):
        types[tuple(member_pairs[x])].append(x)
    m = _Model(model, dict(types), {}, {}, {})
    _add_members(ctx, m)
    _add_groups(ctx, m, pairs, state, kept)
    _add_facilitators(ctx, m, pairs, state)
    return m


def _add_members(ctx: Context, m: _Model) -> None:
    """Each type's members go to its pairs; flags count them, longest-waiting flagged first."""
    weights = wait_weights(ctx, [x for t in m.types.values() for x in t])
    big = sum(weights.values()) + 1
    objective = []
    for key, members in m.types.items():
        flags = [m.model.NewBoolVar("") for _ in members]
        m.taken[key] = flags
        for a, b in zip(flags, flags[1:], strict=False):
            m.model.Add(a >= b)
        for p in key:
            m.load[key, p] = m.model.NewIntVar(0, len(members), "")
        m.model.Add(sum(m.load[key, p] for p in key) == sum(flags))
        objective += [(big + weights[x]) * flag for x, flag in zip(members, flags, strict=True)]
    m.model.Maximize(sum(objective))


def _add_groups(ctx: Context, m: _Model, pairs: list[Pair], state: FacilitatorState, kept) -> None:
    """A pair with k groups holds between k*min_size and k*max_size members; `kept` groups stay open."""
    at_pair: dict[int, list] = defaultdict(list)
    for (_, i), var in m.load.items():
        at_pair[i].append(var)
    for i, p in enumerate(pairs):
        facs = [f for f in p.facilitators if state.free(f, ctx.span(p.slot))]
        if kept is not None:
            facs = [f for f in facs if f in kept[0] or (id(p), f) in kept[1]]
        groups = [m.model.NewBoolVar("") for _ in facs]
        for f, g in zip(facs, groups, strict=True):
            if kept is not None and f not in kept[0]:
                m.model.Add(g == 1)
        m.opened.update({(i, f): g for f, g in zip(facs, groups, strict=True)})
        m.model.Add(sum(at_pair[i]) >= ctx.policy.min_size * sum(groups))
        m.model.Add(sum(at_pair[i]) <= ctx.policy.max_size * sum(groups))


def _add_facilitators(ctx: Context, m: _Model, pairs: list[Pair], state: FacilitatorState) -> None:
    """Capacity per facilitator, and at most one session at any moment (one clique per session start)."""
    by_fac: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for (i, f), var in m.opened.items():
        by_fac[f][pairs[i].slot.index].append(var)
    for f, by_slot in by_fac.items():
        m.model.Add(sum(v for vs in by_slot.values() for v in vs) <= state.capacity[f])
        spans = {s: ctx.span(ctx.table.slots[s]) for s in by_slot}
        for start, _ in spans.values():
            covering = [
                v
                for s2, (a, b) in spans.items()
                if a <= start < b or a <= start + WEEK < b
                for v in by_slot[s2]
            ]
            if len(covering) > 1:  # groups, not slots: two buckets' groups at one slot clash too
                m.model.Add(sum(covering) <= 1)


def _add_hint(m: _Model, pairs: list[Pair], hint: list[Group]) -> None:
    """Start from a known solution so the solver is never worse than it when stopped early."""
    type_of = {x: key for key, members in m.types.items() for x in members}
    position = {id(p): i for i, p in enumerate(pairs)}
    loads: dict = defaultdict(int)
    for g in hint:
        for x in g.members:
            loads[type_of[x], position[id(g.pair)]] += 1
    for key, var in m.load.items():
        m.model.AddHint(var, loads[key])
    for key, flags in m.taken.items():
        placed = sum(loads[key, p] for p in key)
        for i, flag in enumerate(flags):
            m.model.AddHint(flag, i < placed)
    opened = {(position[id(g.pair)], g.facilitator) for g in hint}
    for key, var in m.opened.items():
        m.model.AddHint(var, key in opened)


def _extract(ctx: Context, pairs: list[Pair], m: _Model, solver: cp_model.CpSolver) -> list[Group]:
    """Turn loads into groups: each type's longest-waiting members, split evenly over each pair's groups."""
    at_pair: dict[int, list[int]] = defaultdict(list)
    for key, members in m.types.items():
        queue = iter(members)
        for p in key:
            at_pair[p] += [next(queue) for _ in range(solver.Value(m.load[key, p]))]
    groups = []
    for i, p in enumerate(pairs):
        facs = [f for f in p.facilitators if (i, f) in m.opened and solver.Value(m.opened[i, f])]
        groups += split_evenly(ctx, p, facs, sorted(at_pair[i], key=ctx.rank.__getitem__))
    return groups


def split_evenly(ctx: Context, pair: Pair, facs: list[int], members: list[int]) -> list[Group]:
    """As few groups as max_size allows (freeing facilitators), with sizes differing by at most one."""
    if not members:
        return []
    k = min(len(facs), -(-len(members) // ctx.policy.max_size))
    sizes = [len(members) // k + (i < len(members) % k) for i in range(k)]
    starts = [sum(sizes[:i]) for i in range(k)]
    return [Group(pair, facs[i], members[starts[i] : starts[i] + sizes[i]]) for i in range(k)]
