"""The programme's intake settings: who is eligible after a screen, how long an invitation stays open
and when its one reminder goes, whether formation needs a screen, and when a small group is flagged."""

from __future__ import annotations

from datetime import datetime

from ipt_groups.audit import record_change
from ipt_groups.extensions import db
from ipt_groups.models import Setting

DEFAULTS = {
    "eligibility_threshold": 10,  # PHQ-9 of 10 or more (DOMAIN.md: WHO-manual trials, StrongMinds)
    "invitation_hours": 48,
    "invitation_reminder_hours": 24,  # the one reminder, this long before the deadline
    "screening_required": False,  # True: formation takes only members screened eligible
    "small_group_notice_days": 7,  # a group below its minimum this long before its start is flagged
    "referral_line": {},  # by language: a line added to the not-eligible text, if the programme wants
}


def intake_settings() -> dict:
    """The settings in force: the defaults, with whatever the programme changed."""
    row = db.session.get(Setting, "intake")
    return {**DEFAULTS, **(row.value if row else {})}


def set_intake_settings(changes: dict, actor: str, now: datetime) -> dict:
    """Change some intake settings (the rest keep their value), audited."""
    row = db.session.get(Setting, "intake") or Setting(key="intake", value={})
    before = dict(row.value or {})
    row.value, row.updated_at = {**before, **changes}, now
    db.session.add(row)
    db.session.flush()
    record_change(actor, "settings.intake", row, before, dict(row.value))
    return intake_settings()
