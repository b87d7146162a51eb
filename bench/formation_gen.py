"""Seeded generator of realistic waitlists for the formation benchmark (see docs/bench-formation.md)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

AREA_SHARES = {"role_transition": 35, "role_dispute": 25, "grief": 20, "interpersonal_deficits": 20}
MEMBER_ZONES = {
    "America/New_York": 44,
    "America/Chicago": 30,
    "America/Denver": 8,
    "America/Los_Angeles": 15,
    "Europe/London": 3,
}
FACILITATOR_ZONES = {"America/New_York": 60, "America/Chicago": 40}
WEEKDAYS, WEEKEND = ["mon", "tue", "wed", "thu", "fri"], ["sat", "sun"]
# (name, days to draw from, how many days, start, end) in the person's local time
PATTERNS = [
    ("weekday_evenings", WEEKDAYS[:4], (2, 4), "17:30", "21:00", 45),
    ("weekday_mornings", WEEKDAYS, (1, 3), "09:00", "12:00", 15),
    ("weekday_lunch", WEEKDAYS, (2, 4), "11:30", "13:30", 10),
    ("weekend_mornings", WEEKEND, (1, 2), "09:00", "12:30", 20),
    ("weekend_afternoons", WEEKEND, (1, 2), "13:00", "17:00", 10),
]
SHAPES = {
    "plenty": {
        "languages": {"en": 80, "es": 20},
        "adolescent": 8,
        "per_facilitator": 22,
        "match_gender": False,
    },
    "scarce": {
        "languages": {"en": 80, "es": 20},
        "adolescent": 8,
        "per_facilitator": 70,
        "match_gender": False,
    },
    "small_buckets": {
        "languages": {"en": 55, "es": 25, "fr": 12, "ar": 8},
        "adolescent": 25,
        "per_facilitator": 25,
        "match_gender": True,
    },
}


def _pick(rng: random.Random, shares: dict[str, int]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def _shift(hhmm: str, minutes: int) -> str:
    total = int(hhmm[:2]) * 60 + int(hhmm[3:]) + minutes
    return f"{total // 60:02d}:{total % 60:02d}"


def availability(rng: random.Random, patterns: int, jitter: bool) -> list[dict]:
    """Windows from 1..`patterns` patterns; members' edges move by up to 30 minutes."""
    chosen = (
        rng.sample(PATTERNS, k=1)
        if patterns == 1
        else rng.choices(PATTERNS, weights=[p[5] for p in PATTERNS], k=patterns)
    )
    windows = []
    for _name, days, (lo, hi), start, end, _weight in chosen:
        s, e = (rng.choice([-30, 0, 0, 30]), rng.choice([-30, 0, 0, 30])) if jitter else (0, 0)
        for day in rng.sample(days, k=min(len(days), rng.randint(lo, hi))):
            windows.append({"day": day, "start": _shift(start, s), "end": _shift(end, e)})
    return windows


def member(rng: random.Random, i: int, shape: dict) -> dict:
    """One waitlisted member."""
    adolescent = rng.randrange(100) < shape["adolescent"]
    gender = rng.choices(["female", "male", None], weights=[64, 34, 2])[0]
    waited = timedelta(days=rng.randint(0, 240), minutes=rng.randint(0, 1439))
    return {
        "id": f"m{i}",
        "problem_area": _pick(rng, AREA_SHARES),
        "language": _pick(rng, shape["languages"]),
        "age_band": "adolescent" if adolescent else "adult",
        "gender": gender,
        "timezone": _pick(rng, MEMBER_ZONES),
        "waitlisted_at": (datetime(2026, 12, 1, tzinfo=UTC) - waited).isoformat(),
        "availability": [] if rng.randrange(200) == 0 else availability(rng, rng.choice([1, 1, 2]), True),
    }


def facilitator(rng: random.Random, i: int, shape: dict) -> dict:
    """One facilitator: one or two languages, two problem areas (a fifth lead any), 1-3 groups."""
    languages = [_pick(rng, shape["languages"])]
    if rng.randrange(100) < 30:
        languages.append(_pick(rng, shape["languages"]))
    areas = [] if rng.randrange(5) == 0 else rng.sample(list(AREA_SHARES), k=2)
    return {
        "id": f"f{i}",
        "timezone": _pick(rng, FACILITATOR_ZONES),
        "languages": sorted(set(languages)),
        "problem_areas": areas,
        "max_groups": rng.choice([1, 2, 2, 3]),
        "availability": availability(rng, 2, False) + availability(rng, 1, False),
    }


def instance(shape_name: str, size: int, seed: int = 0) -> dict:
    """A planning document of `size` members in the given shape."""
    shape = SHAPES[shape_name]
    rng = random.Random(f"{shape_name}-{size}-{seed}")
    match_on = ["problem_area", "language", "age_band"] + (["gender"] if shape["match_gender"] else [])
    policy = {
        "min_size": 6,
        "max_size": 10,
        "session_minutes": 90,
        "slot_step_minutes": 30,
        "match_on": match_on,
        "first_session_date": "2027-03-01",
        "weeks": 12,
        "time_limit_s": 20 if size > 5000 else 2,
    }
    members = [member(rng, i, shape) for i in range(size)]
    facilitators = [facilitator(rng, i, shape) for i in range(max(2, size // shape["per_facilitator"]))]
    return {"policy": policy, "members": members, "facilitators": facilitators}
