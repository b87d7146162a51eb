"""Group formation: validity rules, unplaced reasons, time zones and DST, the objective, input errors."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from bench.formation_gen import instance
from ipt_groups.formation.engine import (
    GroupingInputError,
    check_group,
    greedy_groups,
    parse_input,
    propose_groups,
)
from ipt_groups.formation.engine.heuristics import construct
from ipt_groups.formation.engine.pairs import Context, bucket_key, build_pairs
from ipt_groups.formation.engine.slots import Offsets, local_span, zone
from ipt_groups.formation.engine.solver import score, solve

TUE_EVENING = [{"day": "tue", "start": "17:00", "end": "21:00"}]


def member(ident, waited="2026-09-01T12:00:00Z", **overrides) -> dict:
    base = {
        "id": ident,
        "problem_area": "grief",
        "language": "en",
        "age_band": "adult",
        "gender": "female",
        "timezone": "America/Chicago",
        "waitlisted_at": waited,
        "availability": TUE_EVENING,
    }
    return {**base, **overrides}


def facilitator(ident="f1", **overrides) -> dict:
    base = {
        "id": ident,
        "timezone": "America/Chicago",
        "languages": ["en"],
        "problem_areas": [],
        "max_groups": 1,
        "availability": TUE_EVENING,
    }
    return {**base, **overrides}


def document(members, facilitators, **policy) -> dict:
    base = {"min_size": 3, "max_size": 5, "slot_step_minutes": 60, "first_session_date": "2027-01-12"}
    return {"policy": {**base, "weeks": 4, "time_limit_s": 5, **policy}, "members": members,
            "facilitators": facilitators}  # fmt: skip


def propose(members, facilitators, **policy) -> dict:
    return propose_groups(parse_input(document(members, facilitators, **policy)))


def placed_ids(result: dict) -> set:
    return {i for g in result["groups"] for i in g["member_ids"]}


def reasons(result: dict) -> dict:
    return {u["member_id"]: u["reason"] for u in result["unplaced"]}


# --- validity of one group (check_group) ---------------------------------------------------------------

VALID = {"facilitator_id": "f1", "member_ids": ["a", "b", "c"], "day": "tue", "start": "17:00",
         "timezone": "America/Chicago"}  # fmt: skip


def _check_input(**policy):
    members = [member(i) for i in "abcdef"] + [
        member("es", language="es"),
        member("rd", problem_area="role_dispute"),
    ]
    members += [member("wed", availability=[{"day": "wed", "start": "17:00", "end": "21:00"}])]
    facs = [facilitator(), facilitator("f2", max_groups=2, problem_areas=["grief"], languages=["en", "es"])]
    facs += [
        facilitator(
            "night",
            timezone="America/New_York",
            availability=[{"day": "sun", "start": "00:00", "end": "06:00"}],
        )
    ]
    return parse_input(document(members, facs, **policy))


@pytest.mark.parametrize(
    ("change", "others", "expected"),
    [
        ({}, [], None),
        ({"member_ids": ["a", "b"]}, [], "size 2"),
        ({"member_ids": list("abcdef")}, [], "size 6"),
        ({"member_ids": ["a", "b", "es"]}, [], "do not share language"),
        ({"member_ids": ["a", "b", "rd"]}, [], "do not share problem_area"),
        ({"member_ids": ["a", "b", "wed"]}, [], "member 'wed' is not free"),
        ({"start": "20:00"}, [], "is not free for the whole session"),
        ({"start": "17:30"}, [], "not on the 60-minute grid"),
        ({"timezone": "America/New_York"}, [], "is not the facilitator's"),
        ({"member_ids": ["a", "b", "zz"]}, [], "member 'zz' is unknown"),
        ({"facilitator_id": "nobody"}, [], "is unknown"),
        ({"facilitator_id": "f2", "member_ids": ["a", "b", "rd"]}, [], "cannot lead member 'rd'"),
        ({}, [{**VALID, "member_ids": ["d", "e", "f"], "start": "19:00"}], "would lead 2 groups"),
        (
            {"facilitator_id": "f2"},
            [{**VALID, "facilitator_id": "f2", "member_ids": list("def"), "start": "18:00"}],
            "overlapping time",
        ),
        ({}, [{**VALID, "facilitator_id": "f2", "member_ids": ["a", "d", "e"]}], "member 'a' is already"),
    ],
)
def test_check_group_reports_each_rule(change, others, expected):
    problems = check_group(_check_input(), {**VALID, **change}, others)
    assert (problems == []) if expected is None else any(expected in p for p in problems), problems


def test_check_group_accepts_back_to_back_sessions_of_one_facilitator():
    other = {**VALID, "facilitator_id": "f2", "member_ids": list("def"), "start": "19:00"}
    assert check_group(_check_input(), {**VALID, "facilitator_id": "f2"}, [other]) == []


@pytest.mark.parametrize(
    ("first", "day", "start", "why"),
    [
        ("2027-03-14", "sun", "02:30", "DST gap: 02:30 does not exist on 2027-03-14 in New York"),
        ("2027-11-07", "sun", "01:00", "DST fold: 01:00 happens twice on 2027-11-07"),
    ],
)
def test_slot_in_dst_gap_or_fold_is_invalid(first, day, start, why):
    inp = _check_input(first_session_date=first, weeks=2, slot_step_minutes=30)
    group = {**VALID, "facilitator_id": "night", "timezone": "America/New_York", "day": day, "start": start}
    group["member_ids"] = ["x1", "x2", "x3"]
    assert any("clock change" in p for p in check_group(inp, group, [])), why


def test_engine_skips_dst_gap_slot_without_crashing():
    gap = [{"day": "sun", "start": "02:30", "end": "04:00"}]
    ny = {"timezone": "America/New_York", "availability": gap}
    result = propose([member(i, **ny) for i in "abc"], [facilitator(**ny)], first_session_date="2027-03-14",
                     slot_step_minutes=30)  # fmt: skip
    assert result["groups"] == [] and set(reasons(result).values()) == {"no_shared_slot"}


# --- formation, reasons -------------------------------------------------------------------------------


def test_forms_a_valid_group_with_shared_attributes():
    result = propose([member(i) for i in "abcd"], [facilitator()])
    (group,) = result["groups"]
    assert (group["facilitator_id"], sorted(group["member_ids"]), group["day"]) == ("f1", list("abcd"), "tue")
    assert (group["problem_area"], group["language"], group["timezone"]) == ("grief", "en", "America/Chicago")
    inp = parse_input(document([member(i) for i in "abcd"], [facilitator()]))
    assert check_group(inp, group, []) == []


WED = [{"day": "wed", "start": "17:00", "end": "21:00"}]


@pytest.mark.parametrize(
    ("extra_members", "facilitators", "who", "reason"),
    [
        ([member("x", availability=[])], [facilitator()], "x", "no_availability"),
        ([member("x", availability=WED)], [facilitator()], "x", "no_shared_slot"),
        ([member("x", language="fr")], [facilitator()], "x", "no_shared_slot"),
        (
            [member("x", availability=WED), member("y", availability=WED)],
            [facilitator()],
            "x",
            "too_few_at_slot",
        ),
        ([member(i, availability=WED) for i in "xyz"], [facilitator()], "x", "no_facilitator"),
        ([member(i, language="es") for i in "xyz"], [facilitator(max_groups=2)], "x", "no_facilitator"),
        ([member(i, waited="2026-10-01T00:00:00Z") for i in "xyz"], [facilitator()], "z", "groups_full"),
    ],
)
def test_each_unplaced_reason(extra_members, facilitators, who, reason):
    result = propose([member(i) for i in "abc"] + extra_members, facilitators)
    assert reasons(result)[who] == reason
    assert all(u["detail"] for u in result["unplaced"])


def test_facilitator_without_availability_is_not_an_error():
    result = propose([member(i) for i in "abc"], [facilitator(availability=[])])
    assert set(reasons(result).values()) == {"no_facilitator"}


def test_int_ids_are_kept():
    result = propose([member(i) for i in (1, 2, 3)], [facilitator(7)])
    assert result["groups"][0]["facilitator_id"] == 7 and sorted(result["groups"][0]["member_ids"]) == [
        1,
        2,
        3,
    ]


@pytest.mark.parametrize(("mix", "placed"), [(False, set()), (True, {"a", "b", "c", "d"})])
def test_mix_problem_areas_places_members_who_would_stay_unplaced(mix, placed):
    members = [
        member("a"),
        member("b"),
        member("c", problem_area="role_dispute"),
        member("d", problem_area="role_dispute"),
    ]
    result = propose(members, [facilitator()], min_size=4, mix_problem_areas=mix)
    assert placed_ids(result) == placed
    assert all(g["mixed_problem_areas"] for g in result["groups"])


def test_facilitator_must_lead_every_area_of_a_mixed_group():
    members = [
        member("a"),
        member("b"),
        member("c", problem_area="role_dispute"),
        member("d", problem_area="role_dispute"),
    ]
    result = propose(members, [facilitator(problem_areas=["grief"])], min_size=4, mix_problem_areas=True)
    assert result["groups"] == []


@pytest.mark.parametrize(("genders", "placed"), [(["female"] * 4, 4), (["female"] * 3 + [None], 0)])
def test_missing_gender_is_its_own_value_when_matched(genders, placed):
    members = [member(i, gender=g) for i, g in enumerate(genders)]
    match_on = ["problem_area", "language", "age_band", "gender"]
    result = propose(members, [facilitator()], min_size=4, match_on=match_on)
    assert len(placed_ids(result)) == placed


def test_unmatched_attribute_may_differ():
    members = [member(i, gender=g) for i, g in enumerate(["female", "male", None, "female"])]
    assert len(placed_ids(propose(members, [facilitator()], min_size=4))) == 4


# --- time zones and DST -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("window_et", "start_ct"),
    [({"start": "19:00", "end": "20:30"}, "18:00"), ({"start": "18:00", "end": "19:30"}, "17:00")],
)
def test_member_in_new_york_with_facilitator_in_chicago(window_et, start_ct):
    members = [
        member(i, timezone="America/New_York", availability=[{"day": "tue", **window_et}]) for i in "abc"
    ]
    (group,) = propose(members, [facilitator()])["groups"]
    assert (group["start"], group["timezone"]) == (start_ct, "America/Chicago")


@pytest.mark.parametrize(
    ("london_window", "london_placed"),
    [
        (
            {"start": "22:00", "end": "23:30"},
            False,
        ),  # fits 17:00 EST (22:00 GMT) but not 17:00 EDT (21:00 GMT)
        ({"start": "21:00", "end": "23:30"}, True),  # fits both sides of 2027-03-14
    ],
)
def test_slot_must_fit_every_week_across_dst_change(london_window, london_placed):
    ny = {"timezone": "America/New_York", "availability": [{"day": "tue", "start": "17:00", "end": "18:30"}]}
    london = member("london", timezone="Europe/London", availability=[{"day": "tue", **london_window}])
    members = [member(i, **ny) for i in "abc"] + [london]
    result = propose(members, [facilitator(**ny)], first_session_date="2027-03-01")
    assert ("london" in placed_ids(result)) is london_placed
    assert placed_ids(result) >= {"a", "b", "c"}


@pytest.mark.parametrize(
    "name", ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Chatham", "Asia/Kolkata"]
)
def test_offset_table_gives_the_same_local_spans_as_datetime_conversion(name):
    # the slot table's fast path against the conversion check_group uses: every half hour of 2027, in
    # zones with one-hour, half-hour (Lord Howe) and 45-minute-offset (Chatham) changes, and none (Kolkata)
    first, tz = datetime(2027, 1, 1, tzinfo=UTC), zone(name)
    offsets = Offsets(tz, first, first + timedelta(days=366))
    starts = [first + timedelta(minutes=30 * k) for k in range(365 * 48)]
    assert [offsets.span(u, 90) for u in starts] == [local_span(u, 90, tz) for u in starts]
    assert len(offsets.changes) == (0 if name == "Asia/Kolkata" else 2)


# --- objective --------------------------------------------------------------------------------------


def test_longest_waiting_are_placed_when_capacity_is_short():
    waits = {"a": "2026-05-01", "b": "2026-01-01", "c": "2026-07-01", "d": "2026-02-01", "e": "2026-03-01",
             "f": "2026-08-01", "g": "2026-04-01"}  # fmt: skip
    members = [member(i, waited=f"{w}T00:00:00Z") for i, w in waits.items()]
    result = propose(members, [facilitator()])
    assert placed_ids(result) == {"b", "d", "e", "g", "a"}
    assert set(reasons(result)) == {"c", "f"}


def test_more_placed_beats_longer_waiting():
    # the two longest-waiting members only share wednesday with each other; placing them would cost a group
    members = [member(i) for i in "abc"] + [member(i, availability=TUE_EVENING + WED) for i in "xy"]
    members += [member(i, availability=WED, waited="2025-01-01T00:00:00Z") for i in "pq"]
    result = propose(members, [facilitator()], min_size=3, max_size=5)
    assert len(placed_ids(result)) == 5


def test_sizes_are_balanced():
    result = propose([member(i) for i in "abcdefgh"], [facilitator("f1"), facilitator("f2")])
    assert sorted(g["size"] for g in result["groups"]) == [4, 4]


def test_same_input_same_output():
    inp = parse_input(instance("small_buckets", 150))
    first, second = propose_groups(inp), propose_groups(inp)
    for doc in (first, second):
        del doc["stats"]["seconds"]
    assert first == second


@pytest.mark.parametrize(("shape", "seed"), [("plenty", 1), ("scarce", 2), ("small_buckets", 3)])
def test_engine_places_at_least_greedy_and_every_group_is_valid(shape, seed):
    doc = instance(shape, 200, seed)
    doc["policy"]["time_limit_s"] = 2
    inp = parse_input(doc)
    engine, naive = propose_groups(inp), greedy_groups(inp)
    assert engine["stats"]["placed"] >= naive["stats"]["placed"]
    for i, group in enumerate(engine["groups"]):
        assert check_group(inp, group, engine["groups"][:i] + engine["groups"][i + 1 :]) == []
    placed = placed_ids(engine)
    assert len(placed) + len(engine["unplaced"]) == len(doc["members"])


def test_freeing_some_facilitators_keeps_the_others_groups_open():
    inp = parse_input(instance("plenty", 200, 4))
    ctx = Context(inp)
    state = ctx.fresh_state()
    pairs = build_pairs(ctx, [m.index for m in inp.members], bucket_key(inp.policy.match_on), state)
    start = construct(ctx, pairs, state.copy())
    free = frozenset(g.facilitator for g in start[:2])
    found, _, _, _ = solve(ctx, pairs, state, start, work=0.5, seconds=30, free=free)
    kept = {(id(g.pair), g.facilitator) for g in start if g.facilitator not in free}
    assert kept <= {(id(g.pair), g.facilitator) for g in found}
    assert all(g.facilitator in free or (id(g.pair), g.facilitator) in kept for g in found)
    assert score(ctx, found) >= score(ctx, start)


# --- input errors -----------------------------------------------------------------------------------


def _errors(mutate) -> dict:
    doc = document([member("a"), member("b")], [facilitator()])
    mutate(doc)
    with pytest.raises(GroupingInputError) as info:
        parse_input(doc)
    return info.value.errors


def _set(path, value):
    def mutate(doc):
        *head, last = path
        target = doc
        for key in head:
            target = target[key]
        target[last] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (_set(["members"], []), "members"),
        (_set(["policy", "min_size"], 8), "policy.min_size"),
        (_set(["policy", "match_on"], ["problem_area", "religion"]), "policy.match_on[1]"),
        (_set(["members", 1, "id"], "a"), "members[1].id"),
        (lambda d: d["facilitators"].append(copy.deepcopy(d["facilitators"][0])), "facilitators[1].id"),
        (_set(["members", 0, "timezone"], "Mars/Olympus"), "members[0].timezone"),
        (_set(["facilitators", 0, "timezone"], "EST5"), "facilitators[0].timezone"),
        (_set(["members", 1, "availability"], [{"day": "tue", "start": "17:00", "end": "16:00"}]),
         "members[1].availability[0].end"),
        (_set(["members", 1, "availability"], [{"day": "tue", "start": "7pm", "end": "21:00"}]),
         "members[1].availability[0].start"),
        (_set(["members", 0, "availability"], [{"day": "someday", "start": "17:00", "end": "18:00"}]),
         "members[0].availability[0].day"),
        (_set(["policy", "first_session_date"], "2027-02-30"), "policy.first_session_date"),
        (_set(["members", 0, "waitlisted_at"], "yesterday"), "members[0].waitlisted_at"),
        (_set(["policy", "weeks"], 0), "policy.weeks"),
        (_set(["members", 0, "problem_area"], "anxiety"), "members[0].problem_area"),
    ],
)  # fmt: skip
def test_bad_input_is_reported_by_field_path(mutate, field):
    assert field in _errors(mutate)


def test_all_errors_are_reported_together():
    def mutate(doc):
        doc["policy"]["weeks"] = 0
        doc["members"][0]["timezone"] = "Nowhere"

    assert {"policy.weeks", "members[0].timezone"} <= set(_errors(mutate))
