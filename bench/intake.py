"""Twelve weeks of intake, simulated over the formation engine: referrals arrive every Monday, the
coordinator forms groups each Monday, every member placed is invited, 20% decline and 10% stay silent
(the offer expires after 48 h); the others accept within two days. Two ways of running it, on the same
referrals and the same answers:

- **new groups only** (before this issue): each week's formation proposes new groups from the waitlist;
  a seat given up by a decline or by silence stays empty;
- **rolling intake**: a freed seat is offered at once to the best next member for that group (bucket,
  availability, facilitator), and each week's formation fills open seats of groups not started or
  before their late-join limit (the start of session 3) before proposing new groups.

Reported: seats filled at each group's first session, days from referral to a member's first session
(p50, p90), and members still waiting after more than 8 weeks at the end.

    .venv/bin/python bench/intake.py [--weeks 12] [--referrals 30] [--facilitators 14] [--seed 0]
"""

from __future__ import annotations

import argparse
import heapq
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import formation_gen as gen  # noqa: E402
from ipt_groups.formation import engine  # noqa: E402
from ipt_groups.formation.engine.fill import OpenGroup, candidates, fill_open_groups  # noqa: E402
from ipt_groups.formation.engine.slots import slot_utc_starts  # noqa: E402
from ipt_groups.vocabulary import DAYS  # noqa: E402

START = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)  # a Monday, 09:00 in Chicago: formation day
DECLINE, SILENT = 0.20, 0.10
DEADLINE = timedelta(hours=48)
LATE_JOIN_SESSIONS = 2  # a member may join until session 3 begins
POLICY = {
    "min_size": 6,
    "max_size": 10,
    "session_minutes": 90,
    "slot_step_minutes": 30,
    "match_on": ["problem_area", "language", "age_band"],
    "weeks": 12,
    "time_limit_s": 2,
}


@dataclass
class SimGroup:
    id: int
    facilitator: str
    doc: dict  # day, start, timezone, problem_area, language, age_band, gender
    starts: tuple[datetime, ...]
    seats: int
    members: set = field(default_factory=set)
    offered: set = field(default_factory=set)
    tried: set = field(default_factory=set)
    filled_at_start: int | None = None


@dataclass
class Sim:
    rolling: bool
    seed: int
    members: dict = field(default_factory=dict)  # id -> engine document, with "referred_at"
    waiting: set = field(default_factory=set)
    groups: list = field(default_factory=list)
    events: list = field(default_factory=list)
    first_session: dict = field(default_factory=dict)  # member -> first session attended
    offers: int = 0
    backfills: int = 0
    seq: int = 0

    def push(self, at: datetime, kind: str, *payload) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at, self.seq, kind, payload))


def answer_of(seed: int, member_id: str, nth: int) -> tuple[str, timedelta]:
    """The member's answer to their nth offer, the same in both runs."""
    rng = random.Random(f"{seed}-{member_id}-{nth}")
    roll, after = rng.random(), timedelta(hours=rng.uniform(1, 40))
    if roll < DECLINE:
        return "decline", after
    if roll < DECLINE + SILENT:
        return "silent", DEADLINE
    return "accept", after


def referrals(seed: int, weeks: int, per_week: int, initial: int) -> list[dict]:
    """Members referred before the first Monday (the waitlist already there), then every Monday."""
    rng, shape, out = random.Random(f"intake-{seed}"), gen.SHAPES["plenty"], []
    for week in range(weeks):
        for _ in range(initial if week == 0 else per_week):
            doc = gen.member(rng, len(out), shape)
            referred = START + timedelta(weeks=week) - timedelta(hours=rng.uniform(1, 160))
            doc["waitlisted_at"] = referred.isoformat()
            doc["referred_at"] = referred
            out.append(doc)
    return out


def facilitators(seed: int, count: int) -> list[dict]:
    rng = random.Random(f"intake-fac-{seed}")
    return [gen.facilitator(rng, i, gen.SHAPES["plenty"]) for i in range(count)]


def run(sim: Sim, referred: list[dict], facs: list[dict], weeks: int) -> dict:
    by_week: dict[int, list[dict]] = {}
    for doc in referred:
        by_week.setdefault(max(0, (doc["referred_at"] - START).days // 7 + 1), []).append(doc)
    end = START + timedelta(weeks=weeks)
    for week in range(weeks):
        now = START + timedelta(weeks=week)
        settle(sim, now)
        for doc in by_week.get(week, []):
            sim.members[doc["id"]] = doc
            sim.waiting.add(doc["id"])
        form(sim, facs, now)
    settle(sim, end)
    return report(sim, end)


def settle(sim: Sim, until: datetime) -> None:
    """Answers and expiries up to `until`, in time order; seats freed are offered again (rolling)."""
    while sim.events and sim.events[0][0] <= until:
        at, _, kind, (member_id, group) = heapq.heappop(sim.events)
        count_start(sim, at)
        group.offered.discard(member_id)
        if kind == "accept" and is_open(group, at) and len(group.members) < group.seats:
            group.members.add(member_id)
            sim.first_session[member_id] = next(s for s in group.starts if s > at)
            continue
        sim.waiting.add(member_id)
        if sim.rolling and is_open(group, at):
            backfill(sim, group, at)
    count_start(sim, until)


def count_start(sim: Sim, now: datetime) -> None:
    for group in sim.groups:
        if group.filled_at_start is None and group.starts[0] <= now:
            group.filled_at_start = len(group.members)


def is_open(group: SimGroup, now: datetime) -> bool:
    return now < group.starts[LATE_JOIN_SESSIONS]


def backfill(sim: Sim, group: SimGroup, now: datetime) -> None:
    found = open_group(sim, group, now)
    if found is None or found.seats <= 0:
        return
    best = candidates(found, waiting_members(sim), tuple(POLICY["match_on"]))
    if best:
        sim.backfills += 1
        offer(sim, group, best[0].id, now)


def open_group(sim: Sim, group: SimGroup, now: datetime) -> OpenGroup | None:
    if not is_open(group, now):
        return None
    fac = next(f for f in FACS if f["id"] == group.facilitator)
    return OpenGroup(
        id=group.id,
        attrs={k: group.doc.get(k) for k in ("problem_area", "language", "age_band", "gender")},
        starts=tuple(s for s in group.starts if s > now),
        session_minutes=POLICY["session_minutes"],
        seats=group.seats - len(group.members) - len(group.offered),
        facilitator_languages=frozenset(fac["languages"]),
        facilitator_areas=frozenset(fac["problem_areas"]),
        excluded=frozenset(group.tried),
    )


def waiting_members(sim: Sim) -> list:
    docs = [sim.members[i] for i in sorted(sim.waiting)]
    if not docs:
        return []
    plain = [{k: v for k, v in d.items() if k != "referred_at"} for d in docs]
    return list(
        engine.parse_input({"policy": {"first_session_date": "2027-01-04"}, "members": plain}).members
    )


def offer(sim: Sim, group: SimGroup, member_id: str, now: datetime) -> None:
    sim.waiting.discard(member_id)
    group.offered.add(member_id)
    group.tried.add(member_id)
    sim.offers += 1
    answer, after = answer_of(sim.seed, member_id, sum(member_id in g.tried for g in sim.groups))
    sim.push(now + after, answer, member_id, group)


def form(sim: Sim, facs: list[dict], now: datetime) -> None:
    """The Monday formation: open seats first (rolling), then new groups from the rest."""
    if sim.rolling:
        opened = [g for g in (open_group(sim, grp, now) for grp in sim.groups) if g and g.seats > 0]
        by_id = {g.id: g for g in sim.groups}
        for group_id, ids in fill_open_groups(
            opened, waiting_members(sim), tuple(POLICY["match_on"])
        ).items():
            for member_id in ids:
                offer(sim, by_id[group_id], member_id, now)
    if len(sim.waiting) < POLICY["min_size"]:
        return
    first = (now + timedelta(days=8)).date()
    docs = [{k: v for k, v in sim.members[i].items() if k != "referred_at"} for i in sorted(sim.waiting)]
    doc = {"policy": {**POLICY, "first_session_date": first.isoformat()}, "members": docs}
    doc["facilitators"] = [{**f, "existing_groups": led(sim, f["id"], now)} for f in facs]
    doc["facilitators"] = [f for f in doc["facilitators"] if f["max_groups"] > len(f["existing_groups"])]
    inp = engine.parse_input(doc)
    for g in engine.propose_groups(inp)["groups"]:
        day, minutes = DAYS.index(g["day"]), int(g["start"][:2]) * 60 + int(g["start"][3:])
        starts = slot_utc_starts(inp.policy, g["timezone"], day, minutes)
        group = SimGroup(len(sim.groups), g["facilitator_id"], g, starts, POLICY["max_size"])
        sim.groups.append(group)
        for member_id in g["member_ids"]:
            offer(sim, group, member_id, now)


def led(sim: Sim, facilitator: str, now: datetime) -> list[dict]:
    """The groups a facilitator leads that have not ended, as commit sees them (every week)."""
    return [
        {"id": g.id, "day": g.doc["day"], "start": g.doc["start"], "timezone": g.doc["timezone"]}
        for g in sim.groups
        if g.facilitator == facilitator and g.starts[-1] > now
    ]


def report(sim: Sim, end: datetime) -> dict:
    started = [g for g in sim.groups if g.filled_at_start is not None]
    days = sorted((sim.first_session[m] - sim.members[m]["referred_at"]).days for m in sim.first_session)
    waiting = [m for m in sim.members if m not in sim.first_session]
    long_wait = [m for m in waiting if end - sim.members[m]["referred_at"] > timedelta(weeks=8)]
    seats = sum(g.seats for g in started)
    return {
        "referred": len(sim.members),
        "groups_started": len(started),
        "seats_filled_at_start": f"{sum(g.filled_at_start for g in started)}/{seats}",
        "fill_rate_at_start": round(sum(g.filled_at_start for g in started) / seats, 3) if seats else None,
        "groups_below_min_at_start": sum(g.filled_at_start < POLICY["min_size"] for g in started),
        "members_in_a_group": len(sim.first_session),
        "days_to_first_session_p50": statistics.median(days) if days else None,
        "days_to_first_session_p90": days[int(0.9 * (len(days) - 1))] if days else None,
        "waiting_over_8_weeks": len(long_wait),
        "offers": sim.offers,
        "seats_offered_again": sim.backfills,
    }


FACS: list[dict] = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--referrals", type=int, default=30, help="members referred each week")
    parser.add_argument("--initial", type=int, default=60, help="waiting before the first week")
    parser.add_argument("--facilitators", type=int, default=14)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    referred = referrals(args.seed, args.weeks, args.referrals, args.initial)
    FACS[:] = facilitators(args.seed, args.facilitators)
    rows = {}
    for name, rolling in (("new groups only", False), ("rolling intake", True)):
        started = time.perf_counter()
        rows[name] = run(Sim(rolling, args.seed), referred, FACS, args.weeks)
        rows[name]["seconds"] = round(time.perf_counter() - started, 1)
    keys = list(next(iter(rows.values())))
    print("| figure | " + " | ".join(rows) + " |")
    print("|---|" + "---|" * len(rows))
    for key in keys:
        print(f"| {key} | " + " | ".join(str(r[key]) for r in rows.values()) + " |")


if __name__ == "__main__":
    main()
