"""Validation of the planning document into a PlanningInput, collecting every error with its field path."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ipt_groups.formation.engine.model import (
    ALWAYS_MATCHED,
    DEFAULT_MATCH_ON,
    MATCHABLE,
    ExistingGroup,
    Facilitator,
    GroupingInputError,
    Member,
    PlanningInput,
    Policy,
)
from ipt_groups.people.availability import parse_windows
from ipt_groups.time_of_day import parse_hhmm
from ipt_groups.vocabulary import AGE_BANDS, DAYS, PROBLEM_AREAS

_INT_FIELDS = {"min_size": (2, 6), "max_size": (2, 10), "session_minutes": (15, 90), "weeks": (1, 12)}
COUNTED_STATUSES = ("forming", "scheduled", "running")  # an existing group in another status is ignored
_STATUSES = (*COUNTED_STATUSES, "finished", "cancelled")
_MAX_WEEKS = 520  # an existing group's dates: bounds the work, far beyond any cycle


class _Errors:
    """Collects messages by field path."""

    def __init__(self) -> None:
        self.by_path: dict[str, list[str]] = defaultdict(list)

    def add(self, path: str, message: str) -> None:
        self.by_path[path].append(message)


def parse_input(doc: dict) -> PlanningInput:
    """Validate a planning document; raise GroupingInputError listing every problem by field path."""
    errors = _Errors()
    if not isinstance(doc, dict):
        raise GroupingInputError({"": ["the document must be a JSON object"]})
    policy = _parse_policy(doc.get("policy") or {}, errors)
    members = _parse_list(doc.get("members"), "members", _parse_member, errors)
    parse_facilitator = partial(_parse_facilitator, policy)
    facilitators = _parse_list(doc.get("facilitators", []), "facilitators", parse_facilitator, errors)
    if not doc.get("members") and "members" not in errors.by_path:
        errors.add("members", "at least one member is needed")
    if errors.by_path:
        raise GroupingInputError(dict(errors.by_path))
    return PlanningInput(
        policy,
        tuple(members),
        tuple(facilitators),
        member_by_id={m.id: m for m in members},
        facilitator_by_id={f.id: f for f in facilitators},
    )


def _parse_policy(raw: Any, errors: _Errors) -> Policy:
    if not isinstance(raw, dict):
        errors.add("policy", "must be an object")
        raw = {}
    ints = {name: _int(raw, name, lo, default, errors) for name, (lo, default) in _INT_FIELDS.items()}
    if ints["min_size"] > ints["max_size"]:
        errors.add("policy.min_size", f"min_size {ints['min_size']} is above max_size {ints['max_size']}")
    step = _int(raw, "slot_step_minutes", 1, 30, errors)
    if 1440 % step:
        errors.add("policy.slot_step_minutes", "must divide a day (1440 minutes) evenly")
    return Policy(
        first_session_date=_date(raw.get("first_session_date"), "policy.first_session_date", errors),
        slot_step_minutes=step,
        match_on=_match_on(raw.get("match_on", list(DEFAULT_MATCH_ON)), errors),
        mix_problem_areas=_bool(raw, "mix_problem_areas", errors),
        time_limit_s=_positive_number(raw, "time_limit_s", 10.0, errors),
        **ints,
    )


def _int(raw: dict, name: str, lo: int, default: int, errors: _Errors) -> int:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < lo or value > 1440:
        errors.add(f"policy.{name}", f"must be a whole number from {lo} to 1440")
        return default
    return value


def _bool(raw: dict, name: str, errors: _Errors) -> bool:
    value = raw.get(name, False)
    if not isinstance(value, bool):
        errors.add(f"policy.{name}", "must be true or false")
        return False
    return value


def _positive_number(raw: dict, name: str, default: float, errors: _Errors) -> float:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        errors.add(f"policy.{name}", "must be a positive number of seconds")
        return default
    return float(value)


def _match_on(raw: Any, errors: _Errors) -> tuple[str, ...]:
    if not isinstance(raw, list):
        errors.add("policy.match_on", "must be a list of attribute names")
        return DEFAULT_MATCH_ON
    for i, name in enumerate(raw):
        if name not in MATCHABLE:
            errors.add(f"policy.match_on[{i}]", f"{name!r} is not one of {', '.join(MATCHABLE)}")
    if missing := [name for name in ALWAYS_MATCHED if name not in raw]:
        errors.add(
            "policy.match_on",
            f"must include {' and '.join(missing)}: a group meets in one language"
            " and never mixes adolescents and adults",
        )
    return tuple(dict.fromkeys(n for n in raw if n in MATCHABLE))


def _date(raw: Any, path: str, errors: _Errors) -> date:
    try:
        return date.fromisoformat(raw)
    except (TypeError, ValueError):
        errors.add(path, f"{raw!r} is not a date as YYYY-MM-DD")
        return date(2000, 1, 3)


def _parse_list(raw: Any, name: str, parse_one, errors: _Errors) -> list:
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors.add(name, "must be a list")
        return []
    items, seen = [], set()
    for i, item in enumerate(raw):
        path = f"{name}[{i}]"
        if not isinstance(item, dict):
            errors.add(path, "must be an object")
            continue
        ident = _identifier(item, path, seen, errors)
        items.append(parse_one(item, ident, i, path, errors))
    return items


def _identifier(item: dict, path: str, seen: set, errors: _Errors) -> str | int:
    ident = item.get("id")
    if isinstance(ident, bool) or not isinstance(ident, str | int) or ident == "":
        errors.add(f"{path}.id", "must be a non-empty string or an integer")
        return f"?{path}"
    key = (type(ident).__name__, ident)
    if key in seen:
        errors.add(f"{path}.id", f"id {ident!r} is repeated")
    seen.add(key)
    return ident


def _parse_member(raw: dict, ident, index: int, path: str, errors: _Errors) -> Member:
    attrs = {name: _attr(raw, name, path, errors) for name in MATCHABLE}
    return Member(
        id=ident,
        index=index,
        attrs=attrs,
        timezone=_timezone(raw.get("timezone"), f"{path}.timezone", errors),
        waitlisted_at=_instant(raw.get("waitlisted_at"), f"{path}.waitlisted_at", errors),
        windows=_windows(raw.get("availability"), f"{path}.availability", errors),
    )


def _attr(raw: dict, name: str, path: str, errors: _Errors) -> str | None:
    value = raw.get(name)
    vocab = {"problem_area": PROBLEM_AREAS, "age_band": AGE_BANDS}.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or (vocab and value not in vocab):
        errors.add(f"{path}.{name}", f"{value!r} is not one of {', '.join(vocab or ['a string'])}")
        return None
    return value


def _parse_facilitator(
    policy: Policy, raw: dict, ident, index: int, path: str, errors: _Errors
) -> Facilitator:
    areas = _string_list(raw, "problem_areas", path, errors)
    for i, area in enumerate(areas):
        if area not in PROBLEM_AREAS:
            errors.add(f"{path}.problem_areas[{i}]", f"{area!r} is not one of {', '.join(PROBLEM_AREAS)}")
    max_groups = raw.get("max_groups", 1)
    if isinstance(max_groups, bool) or not isinstance(max_groups, int) or max_groups < 0:
        errors.add(f"{path}.max_groups", "must be a whole number >= 0")
        max_groups = 0
    timezone = _timezone(raw.get("timezone"), f"{path}.timezone", errors)
    return Facilitator(
        id=ident,
        index=index,
        timezone=timezone,
        languages=frozenset(_string_list(raw, "languages", path, errors)),
        problem_areas=frozenset(areas),
        max_groups=max_groups,
        windows=_windows(raw.get("availability"), f"{path}.availability", errors),
        existing=_existing_groups(
            raw.get("existing_groups"), f"{path}.existing_groups", timezone, policy, errors
        ),
    )


def _existing_groups(raw: Any, path: str, timezone: str, policy: Policy, errors: _Errors) -> tuple:
    """The groups a facilitator leads already that count (forming, scheduled or running)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        errors.add(path, "must be a list of groups")
        return ()
    groups = [_existing_group(g, f"{path}[{i}]", timezone, policy, errors) for i, g in enumerate(raw)]
    return tuple(g for g in groups if g is not None)


def _existing_group(raw: Any, path: str, timezone: str, policy: Policy, errors: _Errors):
    if not isinstance(raw, dict):
        errors.add(path, "must be an object with day, start and timezone")
        return None
    if "id" in raw and (isinstance(raw["id"], bool) or not isinstance(raw["id"], str | int)):
        errors.add(f"{path}.id", "must be a string or an integer")
    status = raw.get("status", "forming")
    if status not in _STATUSES:
        errors.add(f"{path}.status", f"{status!r} is not one of {', '.join(_STATUSES)}")
    day = str(raw.get("day", "")).lower()
    if day not in DAYS:
        errors.add(f"{path}.day", f"{raw.get('day')!r} is not one of {', '.join(DAYS)}")
    start = _hhmm(raw.get("start"), f"{path}.start", False, errors)
    minutes = raw.get("session_minutes", policy.session_minutes)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 15 <= minutes <= 1440:
        errors.add(f"{path}.session_minutes", "must be a whole number from 15 to 1440")
    zone_name = _timezone(raw.get("timezone", timezone), f"{path}.timezone", errors)
    dates = _existing_dates(raw, path, DAYS.index(day) if day in DAYS else 0, errors)
    if status not in COUNTED_STATUSES or start is None or day not in DAYS:
        return None
    return ExistingGroup(raw.get("id"), DAYS.index(day), start, zone_name, minutes, dates)


def _existing_dates(raw: dict, path: str, day: int, errors: _Errors) -> tuple[date, ...] | None:
    """The dates it meets: `dates`, or every `day` from first_session_date to last_session_date, or
    None (neither given: every week)."""
    if "dates" in raw:
        if "first_session_date" in raw or "last_session_date" in raw:
            errors.add(f"{path}.dates", "give dates, or first_session_date and last_session_date, not both")
        if not isinstance(raw["dates"], list) or not 0 < len(raw["dates"]) <= _MAX_WEEKS:
            errors.add(f"{path}.dates", f"must be a list of 1 to {_MAX_WEEKS} dates as YYYY-MM-DD")
            return None
        return tuple(_date(d, f"{path}.dates[{i}]", errors) for i, d in enumerate(raw["dates"]))
    given = [k for k in ("first_session_date", "last_session_date") if k in raw]
    if not given:
        return None
    if len(given) == 1:
        errors.add(f"{path}.{given[0]}", "give both first_session_date and last_session_date (or neither)")
        return None
    first = _date(raw["first_session_date"], f"{path}.first_session_date", errors)
    last = _date(raw["last_session_date"], f"{path}.last_session_date", errors)
    if not 0 <= (last - first).days <= 7 * _MAX_WEEKS:
        errors.add(f"{path}.last_session_date", f"must be 0 to {_MAX_WEEKS} weeks after first_session_date")
        return None
    first += timedelta(days=(day - first.weekday()) % 7)
    return tuple(first + timedelta(weeks=k) for k in range((last - first).days // 7 + 1))


def _string_list(raw: dict, name: str, path: str, errors: _Errors) -> list[str]:
    value = raw.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.add(f"{path}.{name}", "must be a list of strings")
        return []
    return value


def _timezone(raw: Any, path: str, errors: _Errors) -> str:
    try:
        ZoneInfo(raw)
        return raw
    except (TypeError, ValueError, ZoneInfoNotFoundError):
        errors.add(path, f"{raw!r} is not an IANA timezone such as Europe/London")
        return "UTC"


def _instant(raw: Any, path: str, errors: _Errors) -> datetime:
    try:
        value = datetime.fromisoformat(raw)
    except (TypeError, ValueError):
        errors.add(path, f"{raw!r} is not an ISO 8601 date-time")
        return datetime.fromisoformat("2000-01-01T00:00:00+00:00")
    if value.tzinfo is None:
        errors.add(path, "needs a UTC offset, e.g. 2026-09-01T12:00:00Z")
    return value


def _windows(raw: Any, path: str, errors: _Errors) -> tuple:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        errors.add(path, "must be a list of windows")
        return ()
    ok = [_check_window(w, f"{path}[{i}]", errors) for i, w in enumerate(raw)]
    return tuple(parse_windows(raw)) if all(ok) else ()


def _check_window(raw: Any, path: str, errors: _Errors) -> bool:
    if not isinstance(raw, dict):
        errors.add(path, "must be an object with day, start and end")
        return False
    before = sum(len(v) for v in errors.by_path.values())
    if str(raw.get("day", "")).lower() not in DAYS:
        errors.add(f"{path}.day", f"{raw.get('day')!r} is not one of {', '.join(DAYS)}")
    start = _hhmm(raw.get("start"), f"{path}.start", False, errors)
    end = _hhmm(raw.get("end"), f"{path}.end", True, errors)
    if start is not None and end is not None and end <= start:
        errors.add(f"{path}.end", f"ends at {raw.get('end')} before it starts at {raw.get('start')}")
    return before == sum(len(v) for v in errors.by_path.values())


def _hhmm(raw: Any, path: str, allow_24: bool, errors: _Errors) -> int | None:
    try:
        return parse_hhmm(str(raw), allow_24=allow_24)
    except ValueError as exc:
        errors.add(path, str(exc))
        return None
