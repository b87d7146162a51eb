"""The relocation search (moving a facilitator's group to where more members wait) and the waiting pass."""

from __future__ import annotations

import random
import time

import pytest

from bench.formation_gen import instance
from ipt_groups.formation.engine import check_group, parse_input
from ipt_groups.formation.engine.augment import prefer_waiting
from ipt_groups.formation.engine.heuristics import construct, construct_best, greedy
from ipt_groups.formation.engine.pairs import Context, Group, bucket_key, build_pairs
from ipt_groups.formation.engine.proposal import group_document
from ipt_groups.formation.engine.relocate import Relocation, relocate, use_spare
from ipt_groups.formation.engine.solver import score
from tests.formation.test_grouping import document, facilitator, member

TUE = [{"day": "tue", "start": "17:00", "end": "18:30"}]
WED = [{"day": "wed", "start": "17:00", "end": "18:30"}]
NO_DEADLINE = float("inf")


def setup(doc: dict):
    inp = parse_input(doc)
    ctx = Context(inp)
    state = ctx.fresh_state()
    pairs = build_pairs(ctx, [m.index for m in inp.members], bucket_key(inp.policy.match_on), state)
    return inp, ctx, state, pairs


def ids(ctx: Context, groups: list[Group]) -> list[tuple[str, str, list[str]]]:
    """(facilitator, day, members) per group, comparable across runs."""
    return sorted(
        (
            ctx.inp.facilitators[g.facilitator].id,
            group_document(ctx, g)["day"],
            sorted(ctx.inp.members[m].id for m in g.members),
        )
        for g in groups
    )


def assert_valid(inp, ctx: Context, groups: list[Group]) -> None:
    docs = [group_document(ctx, g) for g in groups]
    for i, doc in enumerate(docs):
        assert check_group(inp, doc, docs[:i] + docs[i + 1 :]) == []
    members = [m for g in groups for m in g.members]
    assert len(members) == len(set(members))


def test_a_group_moves_to_the_slot_where_more_members_wait():
    # one facilitator, free tuesday and wednesday: 3 members wait on tuesday, 5 on wednesday
    members = [member(f"t{i}", availability=TUE) for i in range(3)]
    members += [member(f"w{i}", availability=WED) for i in range(5)]
    inp, ctx, state, pairs = setup(
        document(members, [facilitator(availability=TUE + WED)], slot_step_minutes=30)
    )
    tuesday = next(p for p in pairs if group_document(ctx, Group(p, 0, []))["day"] == "tue")
    start = [Group(tuesday, 0, list(tuesday.members))]
    found, moves = relocate(ctx, pairs, state, start, tries=20, deadline=NO_DEADLINE)
    assert ids(ctx, found) == [("f1", "wed", [f"w{i}" for i in range(5)])]
    assert 1 <= moves <= 20
    assert_valid(inp, ctx, found)


def test_a_move_that_would_place_fewer_is_undone_completely():
    members = [member(f"t{i}", availability=TUE) for i in range(5)]
    members += [member(f"w{i}", availability=WED) for i in range(3)]
    inp, ctx, state, pairs = setup(
        document(members, [facilitator(availability=TUE + WED)], slot_step_minutes=30)
    )
    by_day = {group_document(ctx, Group(p, 0, []))["day"]: p for p in pairs}
    search = Relocation(ctx, pairs, state, [Group(by_day["tue"], 0, list(by_day["tue"].members))])
    before = (ids(ctx, search.groups), dict(search.group_of), list(search.state.capacity),
              [list(b) for b in search.state.busy])  # fmt: skip
    assert search.move(search.groups[0], by_day["wed"]) is False
    after = (ids(ctx, search.groups), dict(search.group_of), list(search.state.capacity),
             [list(b) for b in search.state.busy])  # fmt: skip
    assert after == before
    assert search.placed == 5


def test_a_spare_facilitator_takes_over_a_group_so_its_leader_can_open_another():
    # f_grief leads grief only, f_any leads anything; both free tuesday only for f_grief.
    # The start gives the grief group to f_any, so f_grief (capacity left) can lead nothing that is open;
    # handing the grief group to f_grief lets f_any open a role-dispute group on wednesday.
    grief = [member(f"g{i}", availability=TUE) for i in range(4)]
    dispute = [member(f"d{i}", availability=WED, problem_area="role_dispute") for i in range(4)]
    facs = [facilitator("f_any", availability=TUE + WED),
            facilitator("f_grief", availability=TUE, problem_areas=["grief"])]  # fmt: skip
    inp, ctx, state, pairs = setup(document(grief + dispute, facs, slot_step_minutes=30))
    grief_pair = next(p for p in pairs if p.bucket[0] == "grief" and 0 in p.facilitators)
    search = Relocation(ctx, pairs, state, [Group(grief_pair, 0, list(grief_pair.members))])
    use_spare(search, random.Random(1), 1)
    found = search.groups
    assert ids(ctx, found) == [
        ("f_any", "wed", [f"d{i}" for i in range(4)]),
        ("f_grief", "tue", [f"g{i}" for i in range(4)]),
    ]
    assert_valid(inp, ctx, found)


@pytest.mark.parametrize(("shape", "seed"), [("plenty", 1), ("scarce", 2), ("small_buckets", 3)])
def test_relocation_never_places_fewer_and_every_group_stays_valid(shape, seed):
    inp, ctx, state, pairs = setup(instance(shape, 300, seed))
    start = greedy(ctx, pairs, state.copy())
    found, _ = relocate(ctx, pairs, state, start, tries=300, deadline=NO_DEADLINE)
    assert score(ctx, found)[0] >= score(ctx, start)[0]
    assert_valid(inp, ctx, found)


def test_relocation_gains_on_a_generated_waitlist():
    inp, ctx, state, pairs = setup(instance("plenty", 600, 5))
    start = construct(ctx, pairs, state.copy())
    found, _ = relocate(ctx, pairs, state, start, tries=400, deadline=NO_DEADLINE)
    assert score(ctx, found)[0] > score(ctx, start)[0]


def test_relocation_within_its_move_budget_repeats_exactly():
    inp, ctx, state, pairs = setup(instance("small_buckets", 300, 7))
    start = greedy(ctx, pairs, state.copy())
    runs = [relocate(ctx, pairs, state, start, tries=150, deadline=NO_DEADLINE) for _ in range(2)]
    assert ids(ctx, runs[0][0]) == ids(ctx, runs[1][0])
    assert runs[0][1] == runs[1][1]


def test_relocation_stops_at_the_deadline():
    inp, ctx, state, pairs = setup(instance("plenty", 600, 5))
    start = construct(ctx, pairs, state.copy())
    found, moves = relocate(ctx, pairs, state, start, tries=10**6, deadline=time.perf_counter() - 1)
    assert moves == 0
    assert ids(ctx, found) == ids(ctx, start)


def test_waiting_pass_places_the_longest_waiting_through_a_chain():
    # "old" (longest waiting) fits only tuesday, where the group is full; "mid" in that group could move to
    # wednesday's full group, whose "new" (shortest waiting) goes back to the waitlist
    def waited(day):
        return f"2026-{day}T00:00:00Z"

    both = TUE + WED
    members = [member("old", availability=TUE, waited=waited("01-01")),
               member("mid", availability=both, waited=waited("03-01")),
               member("new", availability=WED, waited=waited("09-01"))]  # fmt: skip
    members += [member(f"t{i}", availability=TUE, waited=waited("02-01")) for i in range(2)]
    members += [member(f"w{i}", availability=WED, waited=waited("02-01")) for i in range(2)]
    facs = [facilitator("f1", availability=TUE), facilitator("f2", availability=WED)]
    doc = document(members, facs, slot_step_minutes=30, min_size=3, max_size=3)
    inp, ctx, state, pairs = setup(doc)
    by_day = {group_document(ctx, Group(p, 0, []))["day"]: p for p in pairs}
    index = {m.id: m.index for m in inp.members}
    groups = [Group(by_day["tue"], 0, [index[i] for i in ("mid", "t0", "t1")]),
              Group(by_day["wed"], 1, [index[i] for i in ("new", "w0", "w1")])]  # fmt: skip
    assert prefer_waiting(ctx, pairs, groups) == 1
    assert ids(ctx, groups) == [("f1", "tue", ["old", "t0", "t1"]), ("f2", "wed", ["mid", "w0", "w1"])]
    assert_valid(inp, ctx, groups)


def test_waiting_pass_after_relocation_moves_keeps_the_count_and_raises_the_waiting_weight():
    inp, ctx, state, pairs = setup(instance("scarce", 600, 2))
    search, rng = Relocation(ctx, pairs, state, construct(ctx, pairs, state.copy())), random.Random(3)
    for _ in range(300):  # the search's own moves, without relocate()'s closing waiting pass
        g = rng.choice(search.groups)
        any(search.move(g, target) for target in search.targets(g.facilitator, g.pair))
    groups = search.groups
    before = score(ctx, groups)
    assert prefer_waiting(ctx, pairs, groups) > 0
    after = score(ctx, groups)
    assert after[0] == before[0] and after[1] > before[1]
    assert_valid(inp, ctx, groups)


def test_relocation_never_returns_shorter_waiting_members_for_the_same_count():
    # sideways moves here end with as many placed but shorter-waiting ones (59 placed, weight 2,652
    # against the start's 3,114, found in review): the start is returned instead
    inp, ctx, state, pairs = setup(instance("scarce", 400, 4))
    start = construct_best(ctx, pairs, state, 8, NO_DEADLINE)
    found, moves = relocate(ctx, pairs, state, start, tries=2000, deadline=NO_DEADLINE)
    assert moves > 0
    assert score(ctx, found) >= score(ctx, start)
