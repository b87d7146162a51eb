"""A group proposal laid out for reading (pure): its groups in a week grid, by start time and day,
and its unplaced members gathered by the reason the engine gave."""

from __future__ import annotations

from ipt_groups.vocabulary import DAYS

REASONS = {
    "no_availability": "No availability given",
    "no_shared_slot": "No slot shared with enough others",
    "too_few_at_slot": "Too few members at their times",
    "no_facilitator": "No facilitator free at their times",
    "groups_full": "Every suitable group is full",
    "removed_by_coordinator": "Taken out by a coordinator",
    "group_dropped": "Their group was dropped",
}


def week_grid(groups: list[dict]) -> list[dict]:
    """One row per start time (earliest first), one cell per weekday, each cell the groups (with their
    index in the proposal) that meet then."""
    rows: dict[str, list[list[tuple[int, dict]]]] = {}
    for index, group in enumerate(groups):
        cells = rows.setdefault(group["start"], [[] for _ in DAYS])
        cells[DAYS.index(group["day"])].append((index, group))
    return [{"start": start, "cells": rows[start]} for start in sorted(rows)]


def by_reason(unplaced: list[dict]) -> list[dict]:
    """Unplaced members gathered by reason, the largest gathering first."""
    gathered: dict[str, list[dict]] = {}
    for entry in unplaced:
        gathered.setdefault(entry["reason"], []).append(entry)
    ordered = sorted(gathered.items(), key=lambda item: (-len(item[1]), item[0]))
    return [{"reason": r, "label": REASONS.get(r, r.replace("_", " ")), "members": m} for r, m in ordered]


def days_used(grid: list[dict]) -> list[int]:
    """The weekdays (indexes into DAYS) on which some group meets: the grid's columns on a phone."""
    return [i for i in range(len(DAYS)) if any(row["cells"][i] for row in grid)]
