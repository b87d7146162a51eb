"""Seeded generator of realistic waitlists for the formation benchmark (see docs/bench-formation.md)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

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
    # facilitators speak 1-3 languages and many are free only from 19:00 on weekday evenings, so one of
    # them fits groups of several buckets at the same hour (where issue 19's double booking appeared)
    "multilingual": {
        "languages": {"en": 50, "es": 40, "pt": 10},
        "adolescent": 8,
        "per_facilitator": 22,
        "match_gender": False,
        "facilitator_languages": {1: 30, 2: 55, 3: 15},
        "late_evenings": 80,
    },
    # two in five facilitators already lead one or two groups inside their availability: every week, on
    # dates that overlap the cycle, or on dates that end before it
    "existing": {
        "languages": {"en": 70, "es": 30},
        "adolescent": 8,
        "per_facilitator": 22,
        "match_gender": False,
        "facilitator_languages": {1: 60, 2: 40},
        "late_evenings": 30,
        "existing": 40,
    },
}
FIRST_SESSION = date(2027, 3, 1)


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
    """One facilitator: one or two languages (1-3 in some shapes), two problem areas (a fifth lead any),
    1-3 groups; in some shapes free late on weekday evenings, or leading groups already."""
    languages = _languages(rng, shape)
    areas = [] if rng.randrange(5) == 0 else rng.sample(list(AREA_SHARES), k=2)
    doc = {
        "id": f"f{i}",
        "timezone": _pick(rng, FACILITATOR_ZONES),
        "languages": languages,
        "problem_areas": areas,
        "max_groups": rng.choice([1, 2, 2, 3]),
        "availability": availability(rng, 2, False) + availability(rng, 1, False),
    }
    if shape.get("late_evenings") and rng.randrange(100) < shape["late_evenings"]:
        days = rng.sample(WEEKDAYS, k=rng.randint(2, 4))
        late = [{"day": d, "start": "19:00", "end": rng.choice(["20:30", "21:00"])} for d in days]
        doc["availability"] = late + availability(rng, 1, False)
    if shape.get("existing") and rng.randrange(100) < shape["existing"]:
        doc["existing_groups"] = [_existing(rng, doc) for _ in range(rng.choice([1, 1, 2]))]
        doc["max_groups"] += len(doc["existing_groups"])
    return doc


def _languages(rng: random.Random, shape: dict) -> list[str]:
    if "facilitator_languages" not in shape:  # the first shapes' draws, kept so their instances stay the same
        languages = [_pick(rng, shape["languages"])]
        if rng.randrange(100) < 30:
            languages.append(_pick(rng, shape["languages"]))
        return sorted(set(languages))
    k = int(_pick(rng, {str(n): w for n, w in shape["facilitator_languages"].items()}))
    chosen: list[str] = []
    while len(chosen) < min(k, len(shape["languages"])):
        language = _pick(rng, shape["languages"])
        chosen += [] if language in chosen else [language]
    return sorted(chosen)


def _existing(rng: random.Random, fac: dict) -> dict:
    """A group the facilitator leads already, starting where one of their windows starts."""
    window = rng.choice([w for w in fac["availability"] if _minutes(w["end"]) - _minutes(w["start"]) >= 90])
    group = {"day": window["day"], "start": window["start"], "session_minutes": 90}
    kind = rng.choice(["every_week", "every_week", "overlapping", "ended"])
    if kind != "every_week":
        first = FIRST_SESSION + timedelta(weeks=rng.randint(-10, 4) if kind == "overlapping" else -20)
        last = first + timedelta(weeks=11)
        group |= {"first_session_date": first.isoformat(), "last_session_date": last.isoformat()}
    return group


def _minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


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
        "first_session_date": FIRST_SESSION.isoformat(),
        "weeks": 12,
        "time_limit_s": 20 if size > 5000 else 2,
    }
    members = [member(rng, i, shape) for i in range(size)]
    facilitators = [facilitator(rng, i, shape) for i in range(max(2, size // shape["per_facilitator"]))]
    return {"policy": policy, "members": members, "facilitators": facilitators}
