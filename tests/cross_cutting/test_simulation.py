"""The whole-programme simulation at a small size: every planned message is accounted for, sent at
most once, safety alerts reach a person, and the summary a coordinator reads adds up."""

from sqlalchemy import func, select

from ipt_groups.devtools.simulation import render, run
from ipt_groups.extensions import db as _db
from ipt_groups.models import Alert, AttendanceRecord, GroupSession, Message

FINAL = {"sent", "cancelled", "expired", "suppressed", "failed"}


def test_a_small_programme_runs_end_to_end(db):
    stages = []

    def recording(items, total, label):
        items = list(items)
        stages.append((label, total, len(items)))
        return items

    result = run(members=40, weeks=14, seed=1, track=recording)
    assert [label for label, _, _ in stages] == [
        "Adding the waitlist",
        "Forming groups (up to 10 s)",
        "Planning cycles",
        "Running 14 weeks",
    ]
    assert all(total == done for _, total, done in stages)  # each stage reports every item it does
    assert stages[0][1] == 40 and stages[2][1] == result["formed"]["groups"] and stages[3][1] == 14 * 7 * 24
    states = result["messages_by_state"]
    assert set(states) <= FINAL, states  # nothing left pending, in flight or unknown
    assert result["sms_sent"] == states["sent"]  # every sent row reached the backend exactly once
    assert result["duplicate_keys"] == 0
    assert result["formed"]["groups"] >= 2 and result["formed"]["placed"] >= 12
    assert result["alerts"].get("safety", 0) >= 1
    assert _db.session.scalar(select(func.count()).where(Alert.acknowledged_at.is_(None))) == 0
    held = _db.session.scalar(select(func.count()).where(GroupSession.status == "held"))
    assert held == _db.session.scalar(select(func.count()).select_from(GroupSession))
    assert _db.session.scalar(select(func.count()).select_from(AttendanceRecord)) > held
    assert result["opted_out"] >= 1
    stopped = _db.session.scalar(
        select(func.count()).where(Message.state == "cancelled", Message.reason == "the member opted out")
    )
    assert stopped > 0
    text = render(result)
    assert "Attendance by phase: initial" in text and "Alerts raised" in text


def test_the_cli_prints_a_summary(runner):
    result = runner.invoke(
        args=["ipt", "simulate", "--members", "20", "--weeks", "3", "--step-minutes", "180"]
    )
    assert result.exit_code == 0, result.output
    # Not a terminal: no progress at all, only the summary.
    assert result.output.startswith("Groups formed:") and "Messages by state:" in result.output
    assert "%" not in result.output and "Running" not in result.output
