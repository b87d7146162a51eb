"""Programme outcomes from PHQ-9 scores (pure: plain data in, plain data out; no Flask, no database).

Per member with a baseline and a later score (DOMAIN.md, "Measuring symptoms"): the change from
baseline; **response**, a drop of at least 50% (a baseline above 0); **remission**, an end score
below 5; **reliable improvement**, a drop of 6 points or more (NHS Talking Therapies' threshold);
**recovery**, from 10 or above at baseline to below 10, counted among members who started at 10 or
above. Summaries give counts and rates for a group, the programme, and each attendance dose.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import fmean

REMISSION_BELOW = 5
RELIABLE_DROP = 6
CASENESS = 10  # recovery: from CASENESS or above to below it
# The share of held sessions a member attended; the top band starts at the default completion rate.
DOSE_BANDS = ((0.75, "75% or more"), (0.5, "50-74%"), (0.25, "25-49%"), (0.0, "under 25%"))
MEASURES = ("response", "remission", "reliable_improvement", "recovery")


@dataclass(frozen=True)
class Course:
    """One member's course in one group: first and last PHQ-9 there, and sessions attended of those
    held while they were in it."""

    member_id: int
    group_id: int
    baseline: int | None
    end: int | None
    attended: int
    held: int


def member_outcome(baseline: int, end: int) -> dict:
    """The change and each outcome for one member (recovery is None when the baseline was below 10)."""
    drop = baseline - end
    return {
        "change": end - baseline,
        "response": baseline > 0 and 2 * drop >= baseline,
        "remission": end < REMISSION_BELOW,
        "reliable_improvement": drop >= RELIABLE_DROP,
        "recovery": end < CASENESS if baseline >= CASENESS else None,
    }


def _rate(n: int, of: int) -> float | None:
    return round(n / of, 3) if of else None


def _mean(values: list[int]) -> float | None:
    return round(fmean(values), 2) if values else None


def summarise(courses: list[Course]) -> dict:
    """Members, those with a baseline, those with both scores; means and each outcome's count and rate
    among members with both scores (recovery among those who started at 10 or above)."""
    paired = [c for c in courses if c.baseline is not None and c.end is not None]
    outcomes = [member_outcome(c.baseline, c.end) for c in paired]
    summary = {
        "members": len(courses),
        "with_baseline": sum(1 for c in courses if c.baseline is not None),
        "with_both": len(paired),
        "mean_baseline": _mean([c.baseline for c in paired]),
        "mean_end": _mean([c.end for c in paired]),
        "mean_change": _mean([o["change"] for o in outcomes]),
    }
    for measure in MEASURES:
        counted = [o[measure] for o in outcomes if o[measure] is not None]
        n = sum(1 for v in counted if v)
        summary[measure] = {"n": n, "of": len(counted), "rate": _rate(n, len(counted))}
    return summary


def dose_band(attended: int, held: int) -> str | None:
    """The attendance band of a member's course (None before any session was held)."""
    if held <= 0:
        return None
    share = attended / held
    return next(label for floor, label in DOSE_BANDS if share >= floor)


def outcome_report(courses: list[Course], groups: list[dict]) -> dict:
    """The programme, each group (`groups`: group_id, name, facilitator, first_date; in order) and each
    attendance dose band."""
    by_group: dict[int, list[Course]] = {}
    for course in courses:
        by_group.setdefault(course.group_id, []).append(course)
    by_dose = {label: [] for _floor, label in DOSE_BANDS}
    for course in courses:
        band = dose_band(course.attended, course.held)
        if band is not None:
            by_dose[band].append(course)
    return {
        "programme": summarise(courses),
        "groups": [{**g, **summarise(by_group.get(g["group_id"], []))} for g in groups],
        "by_dose": [{"dose": label, **summarise(by_dose[label])} for _floor, label in reversed(DOSE_BANDS)],
    }


COLUMNS = ["scope", "group_id", "group", "facilitator", "dose", "members", "with_baseline", "with_both"]
COLUMNS += ["mean_baseline", "mean_end", "mean_change"]
COLUMNS += [f"{m}_{part}" for m in MEASURES for part in ("n", "of", "rate")]


def _flat(scope: str, row: dict) -> list:
    flat = {"scope": scope, "group": row.get("name"), **{k: v for k, v in row.items() if k not in MEASURES}}
    for measure in MEASURES:
        flat.update({f"{measure}_{part}": value for part, value in row[measure].items()})
    return [flat.get(column) for column in COLUMNS]


def outcome_rows(report: dict) -> list[list]:
    """The report as rows under COLUMNS: the programme, each group, each dose band."""
    rows = [_flat("programme", report["programme"])]
    rows += [_flat("group", row) for row in report["groups"]]
    return rows + [_flat("dose", row) for row in report["by_dose"]]
