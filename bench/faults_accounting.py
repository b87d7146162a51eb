"""Exact accounting for the fault benchmark: every outbox row against what the Twilio stand-in
accepted.

Markers. A `sent` row carries the `sid` the stand-in made up for it (unique, `SM` + 32 hex), so
sent rows are matched exactly. An accepted message whose sid is on no row is an orphan: its answer
never reached the database (a read timeout after acceptance, or the scheduler killed, or the
database gone, between acceptance and the commit). Orphans are matched to rows that are not `sent`
by (To, Body) - the body is composed and committed with `send_started_at` before the provider is
called - and by time: the acceptance must fall between the row's `send_started_at` and its last
update. An orphan that matches no such row is either a second copy of a message (a duplicate) or
a message with no row at all.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text

from ipt_groups.extensions import db

SLACK_S = 2.0  # clock granularity between the two processes' timestamps
ROWS = text(
    """
    SELECT m.id, m.kind, m.state, m.reason, m.body, m.provider_id, m.attempts,
           m.send_started_at, m.updated_at, m.due_at, m.deadline_at,
           COALESCE(mb.phone, f.phone, m.to_phone) AS phone
    FROM messages m
    LEFT JOIN members mb ON mb.id = m.member_id
    LEFT JOIN facilitators f ON f.id = m.facilitator_id
    ORDER BY m.id
    """
)


@dataclass
class Accounting:
    """The result: counts, and the ids behind every number that must be zero."""

    planned: int = 0
    planned_at_start: int = 0
    states: Counter = field(default_factory=Counter)
    final_reasons: Counter = field(default_factory=Counter)
    delivered_sent: int = 0
    unknown_accepted: int = 0
    unknown_not_accepted: int = 0
    accepted_total: int = 0
    requests: dict = field(default_factory=dict)
    duplicates: list = field(default_factory=list)
    lost: list = field(default_factory=list)
    phantom_sent: list = field(default_factory=list)
    unmatched_acceptances: list = field(default_factory=list)
    contradicted: list = field(default_factory=list)
    ambiguous_matches: int = 0

    @property
    def delivered_once(self) -> int:
        return self.delivered_sent + self.unknown_accepted

    @property
    def ok(self) -> bool:
        wrong = self.duplicates, self.lost, self.phantom_sent, self.unmatched_acceptances, self.contradicted
        return not any(wrong)


def account(app, accepted: list[tuple], requests: dict, planned_at_start: int) -> Accounting:
    """Match every row of the outbox against the stand-in's accepted messages."""
    with app.app_context():
        rows = db.session.execute(ROWS).all()
    result = Accounting(planned=len(rows), planned_at_start=planned_at_start, requests=requests)
    result.accepted_total = len(accepted)
    result.states = Counter(r.state for r in rows)
    by_sid = {a[0]: a for a in accepted}
    used = _match_sent(rows, by_sid, result)
    orphans = [a for a in accepted if a[0] not in used]
    matched = _match_orphans(rows, orphans, result)
    _classify(rows, matched, result)
    return result


def _match_sent(rows, by_sid: dict, result: Accounting) -> set[str]:
    used = set()
    for row in rows:
        if row.state != "sent":
            continue
        if row.provider_id in by_sid:
            used.add(row.provider_id)
            result.delivered_sent += 1
        else:
            result.phantom_sent.append(row.id)  # `sent` with a sid the stand-in never gave out
    return used


def _match_orphans(rows, orphans: list[tuple], result: Accounting) -> Counter:
    """Each orphan to the earliest-started free candidate row; returns row id -> copies accepted."""
    candidates, any_row = defaultdict(list), defaultdict(list)
    for row in rows:
        any_row[(row.phone, row.body)].append(row)
        if row.state != "sent" and row.send_started_at is not None and row.body:
            candidates[(row.phone, row.body)].append(row)
    matched: Counter = Counter()
    for sid, received_at, to, body in orphans:
        fits = [r for r in candidates.get((to, body), ()) if _within(received_at, r)]
        free = [r for r in fits if not matched[r.id]]
        if len(free) > 1:
            result.ambiguous_matches += 1
        if free:
            matched[min(free, key=lambda r: r.send_started_at).id] += 1
        elif fits or any_row.get((to, body)):
            matched[(fits or any_row[(to, body)])[0].id] += 1  # a second copy of some row's text
        else:
            result.unmatched_acceptances.append({"sid": sid, "to": to, "body": (body or "")[:60]})
    return matched


def _within(received_at: float, row) -> bool:
    start, end = row.send_started_at.timestamp(), row.updated_at.timestamp()
    return start - SLACK_S <= received_at <= end + SLACK_S


def _classify(rows, matched: Counter, result: Accounting) -> None:
    phantom = set(result.phantom_sent)
    for row in rows:
        copies = matched[row.id] + (row.state == "sent" and row.id not in phantom)
        if copies > 1:
            result.duplicates.append({"id": row.id, "state": row.state, "copies": copies})
        elif copies and row.state not in ("sent", "unknown"):
            # accepted once, yet the row says failed/expired/...: the message went, the outbox is wrong
            result.contradicted.append({"id": row.id, "state": row.state, "reason": row.reason})
        if row.state == "unknown":
            result.unknown_accepted += bool(matched[row.id])
            result.unknown_not_accepted += not matched[row.id]
        elif row.state in ("pending", "sending"):
            result.lost.append(
                {"id": row.id, "state": row.state, "reason": row.reason, "due": _iso(row.due_at)}
            )
        if row.state not in ("sent", "pending", "sending"):
            result.final_reasons[(row.state, _reason_family(row.reason))] += 1


def _reason_family(reason: str | None) -> str:
    """A reason without its numbers and ids, so that reasons can be counted."""
    if not reason:
        return "-"
    for cut in (": HTTPConnectionPool", ": ReadTimeout", " (read timeout", ": Unable to create record"):
        if cut in reason:
            reason = reason[: reason.index(cut)] + " ..."
    return reason[:140]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def render(acc: Accounting) -> list[str]:
    """The accounting table, Markdown."""
    lines = [
        "| quantity | count |",
        "|---|---:|",
        f"| planned messages (outbox rows at the end; {acc.planned_at_start} at the start) | {acc.planned} |",
        f"| delivered once: `sent`, sid accepted by the stand-in | {acc.delivered_sent} |",
        f"| delivered once: `unknown`, accepted by the stand-in (answer lost) | {acc.unknown_accepted} |",
        f"| honestly unknown: `unknown`, never accepted | {acc.unknown_not_accepted} |",
        f"| **duplicates**: a row's message accepted more than once | **{len(acc.duplicates)}** |",
        f"| **contradicted**: accepted, yet the row is failed/expired/cancelled "
        f"| **{len(acc.contradicted)}** |",
        f"| **lost**: rows still `pending`/`sending` at the end | **{len(acc.lost)}** |",
        f"| **lost**: `sent` rows whose sid the stand-in never issued | **{len(acc.phantom_sent)}** |",
        f"| **lost**: accepted by the stand-in, matching no row | **{len(acc.unmatched_acceptances)}** |",
        f"| accepted by the stand-in in all | {acc.accepted_total} |",
        f"| orphan acceptances matched with more than one candidate row | {acc.ambiguous_matches} |",
        "",
        "| final state | reason | rows |",
        "|---|---|---:|",
    ]
    lines += [f"| {s} | {r} | {n} |" for (s, r), n in sorted(acc.final_reasons.items())]
    lines += ["", "Outbox states: " + ", ".join(f"{k} {v}" for k, v in sorted(acc.states.items()))]
    lines.append(
        "Stand-in requests by outcome: " + ", ".join(f"{k} {v}" for k, v in sorted(acc.requests.items()))
    )
    return lines
