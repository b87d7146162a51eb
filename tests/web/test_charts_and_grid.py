"""The pages' pure cores: SVG charts (named, described, escaped, proportional) and the proposal's week
grid and unplaced gatherings."""

from __future__ import annotations

import re
from datetime import date

from ipt_groups.web import charts, grid


def test_a_rate_chart_is_named_described_and_proportional():
    svg = charts.rate_bars(
        "Outcomes <all>", [("Response", 0.5, "1 of 2 (50%)"), ("Remission", None, "0 of 0")]
    )
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "<title" in svg and "Outcomes &lt;all&gt;" in svg
    assert "Response: 1 of 2 (50%); Remission: 0 of 0" in svg  # the description says every value
    widths = [
        float(w) for w in re.findall(r'class="bar"[^>]*|width="([\d.]+)" height="22" class="bar"', svg) if w
    ]
    track = charts.WIDTH - charts.LABEL_W - charts.NOTE_W
    assert widths == [track * 0.5]  # no bar for no data


def test_score_pairs_place_baseline_and_end_on_the_0_to_27_scale():
    svg = charts.score_pairs("Scores", [("Group <1>", 27, 0), ("Group 2", None, None)])
    circles = re.findall(r'<circle cx="([\d.]+)"[^>]*class="(baseline|end)"', svg)
    track = charts.WIDTH - charts.LABEL_W - charts.NOTE_W
    assert [(float(x), kind) for x, kind in circles] == [
        (charts.LABEL_W + track, "baseline"),
        (charts.LABEL_W, "end"),
    ]
    assert "Group &lt;1&gt;: 27 to 0" in svg and "Group 2: no paired scores" in svg


def test_the_timeline_labels_phases_and_marks_cancelled_sessions():
    sessions = [
        (1, "initial", date(2027, 1, 5), "held"),
        (2, "middle", date(2027, 1, 12), "cancelled"),
        (3, "termination", date(2027, 1, 19), "scheduled"),
    ]
    svg = charts.timeline(sessions)
    assert [p for p in re.findall(r'class="phase-name"[^>]*>(\w+)<', svg)] == [
        "initial",
        "middle",
        "termination",
    ]
    assert 'class="phase-middle cancelled"' in svg and "session 2 (middle) 2027-01-12 cancelled" in svg
    assert charts.timeline([]) == ""


def test_the_week_grid_puts_groups_by_start_and_day():
    groups = [
        {"day": "thu", "start": "10:00"},
        {"day": "tue", "start": "18:00"},
        {"day": "thu", "start": "18:00"},
    ]
    week = grid.week_grid(groups)
    assert [row["start"] for row in week] == ["10:00", "18:00"]
    assert week[1]["cells"][1] == [(1, groups[1])] and week[1]["cells"][3] == [(2, groups[2])]
    assert grid.days_used(week) == [1, 3]


def test_unplaced_members_gather_by_reason_largest_first():
    unplaced = [
        {"member_id": 1, "reason": "no_facilitator"},
        {"member_id": 2, "reason": "too_few_at_slot"},
        {"member_id": 3, "reason": "too_few_at_slot"},
        {"member_id": 4, "reason": "something_new"},
    ]
    gathered = grid.by_reason(unplaced)
    assert [(g["reason"], len(g["members"])) for g in gathered] == [
        ("too_few_at_slot", 2),
        ("no_facilitator", 1),
        ("something_new", 1),
    ]
    assert (
        gathered[0]["label"] == "Too few members at their times" and gathered[2]["label"] == "something new"
    )
