"""A small demo programme for a first run: facilitators, about 60 waitlisted members, a token."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ipt_groups.auth import create_token
from ipt_groups.extensions import db
from ipt_groups.models import Member
from ipt_groups.people.roster import create_facilitator, create_member
from ipt_groups.vocabulary import PROBLEM_AREAS

_FIRST = [
    "Ana",
    "Ben",
    "Chloé",
    "Dev",
    "Efe",
    "Femi",
    "Gus",
    "Hana",
    "Ivan",
    "Jo",
    "Kofi",
    "Lena",
    "Mo",
    "Nia",
    "Omar",
    "Pia",
    "Quinn",
    "Rosa",
    "Sam",
    "Uma",
]
_LAST = [
    "Adams",
    "Baker",
    "Cruz",
    "Diallo",
    "Evans",
    "Fischer",
    "García",
    "Huang",
    "Ibrahim",
    "Kim",
    "López",
    "Mensah",
    "O'Brien",
    "Patel",
]
_EVENINGS = [{"day": d, "start": "17:30", "end": "21:00"} for d in ("mon", "tue", "wed", "thu")]
_SATURDAY = [{"day": "sat", "start": "09:00", "end": "13:00"}]
_FACILITATORS = [
    ("Dana Okafor", "America/New_York", ["en"], ["grief", "role_transition"]),
    ("Luis Romero", "America/Chicago", ["en", "es"], ["role_transition", "interpersonal_deficits"]),
    ("Mei Chen", "America/New_York", ["en"], []),
    ("Sofia Reyes", "America/Chicago", ["es", "en"], ["grief", "role_dispute"]),
]


def load_demo_programme(actor: str, now: datetime, seed: int, if_empty: bool) -> str | None:
    """Create the demo roster and waitlist; returns a coordinator token, or None if already loaded."""
    if if_empty and db.session.scalar(select(func.count()).select_from(Member)):
        return None
    rng = random.Random(seed)
    for i, (name, tz, languages, areas) in enumerate(_FACILITATORS):
        create_facilitator(_facilitator(i, name, tz, languages, areas), actor, now)
    for i in range(60):
        create_member(_member(rng, i, now), actor, now)
    _row, token = create_token("coordinator", "demo coordinator", None, actor)
    return token


def _facilitator(i: int, name: str, tz: str, languages: list[str], areas: list[str]) -> dict:
    return {
        "name": name,
        "phone": f"+1202555{100 + i:04d}",
        "email": f"{name.split()[0].lower()}@example.org",
        "timezone": tz,
        "languages": languages,
        "problem_areas": areas,
        "availability": _EVENINGS + _SATURDAY,
        "max_groups": 2,
    }


def _member(rng: random.Random, i: int, now: datetime) -> dict:
    availability = rng.choice(
        [_EVENINGS[:2], _EVENINGS[1:3], _EVENINGS, _SATURDAY, _EVENINGS[2:] + _SATURDAY]
    )
    return {
        "name": f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
        "phone": f"+1312555{1000 + i:04d}",
        "timezone": rng.choice(["America/New_York", "America/Chicago"]),
        "language": "es" if i % 6 == 0 else "en",
        "age_band": "adult",
        "problem_area": PROBLEM_AREAS[i % 4],
        "availability": availability,
        "sms_consent": True,
        "sms_consent_source": "demo intake form",
        "waitlisted_at": now - timedelta(days=rng.randint(1, 120)),
    }
