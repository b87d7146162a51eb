"""The benchmark's exact model: every member and every (pair, facilitator) as its own CP-SAT variable.

Unlike the engine's model it does not aggregate interchangeable members and is solved whole, once, with
a generous time limit, for the best solution and the proven bound on members placed. Pairs hold every
(bucket, slot, facilitator class) with at least min_size members, which loses no solution: a group needs
min_size members of one bucket free at its slot whom its facilitator can lead.
"""

from __future__ import annotations

from collections import defaultdict

from ortools.sat.python import cp_model

from ipt_groups.formation.engine import PlanningInput
from ipt_groups.formation.engine.heuristics import greedy
from ipt_groups.formation.engine.pairs import Context, bucket_key, build_pairs
from ipt_groups.formation.engine.slots import WEEK


def solve_exact(inp: PlanningInput, seconds: float, workers: int = 2) -> dict:
    """Maximise members placed under every rule; returns best, bound, status and wall seconds."""
    ctx, state = Context(inp), None
    state = ctx.fresh_state()
    pairs = build_pairs(ctx, [m.index for m in inp.members], bucket_key(inp.policy.match_on), state)
    model = cp_model.CpModel()
    assign, opened = _variables(model, pairs)
    _constraints(ctx, model, pairs, assign, opened, inp)
    model.Maximize(sum(assign.values()))
    _hint_greedy(ctx, pairs, state, model, assign, opened)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = workers
    status = solver.Solve(model)
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return {
        "best": int(solver.ObjectiveValue()) if found else None,
        "bound": int(solver.BestObjectiveBound() + 1e-6),
        "status": solver.StatusName(status),
        "seconds": round(solver.WallTime(), 1),
    }


def _variables(model, pairs):
    assign = {(m, i): model.NewBoolVar("") for i, p in enumerate(pairs) for m in p.members}
    opened = {(i, f): model.NewBoolVar("") for i, p in enumerate(pairs) for f in p.facilitators}
    return assign, opened


def _constraints(ctx, model, pairs, assign, opened, inp) -> None:
    by_member, by_pair = defaultdict(list), defaultdict(list)
    for (m, i), var in assign.items():
        by_member[m].append(var)
        by_pair[i].append(var)
    for vars_ in by_member.values():
        model.AddAtMostOne(vars_)
    open_at = defaultdict(list)
    for (i, _f), var in opened.items():
        open_at[i].append(var)
    for i in range(len(pairs)):
        model.Add(sum(by_pair[i]) >= inp.policy.min_size * sum(open_at[i]))
        model.Add(sum(by_pair[i]) <= inp.policy.max_size * sum(open_at[i]))
    _facilitator_rules(ctx, model, pairs, opened, inp)


def _facilitator_rules(ctx, model, pairs, opened, inp) -> None:
    by_fac = defaultdict(list)
    for (i, f), var in opened.items():
        by_fac[f].append((ctx.span(pairs[i].slot), var))
    for f, items in by_fac.items():
        model.Add(sum(v for _, v in items) <= inp.facilitators[f].capacity)  # less groups led already
        for (start, _), _v in items:
            covering = [v for (a, b), v in items if a <= start < b or a <= start + WEEK < b]
            if len(covering) > 1:
                model.Add(sum(covering) <= 1)


def _hint_greedy(ctx, pairs, state, model, assign, opened) -> None:
    """Start from the naive greedy solution (not the engine's, to keep the reference independent)."""
    position = {id(p): i for i, p in enumerate(pairs)}
    chosen = greedy(ctx, pairs, state.copy())
    taken = {(m, position[id(g.pair)]) for g in chosen for m in g.members}
    led = {(position[id(g.pair)], g.facilitator) for g in chosen}
    for key, var in assign.items():
        model.AddHint(var, key in taken)
    for key, var in opened.items():
        model.AddHint(var, key in led)
