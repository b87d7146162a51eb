"""SMS check-ins: scoring and a pure conversation state machine.

Plain Python over plain data: no Flask, no database, no clock (functions take `now`, timezone-aware).
The instruments' wording and every text of a conversation, in the reader's language, live in
`wording`; reading inbound SMS lives in `replies` (keywords, answers) and `crisis` (crisis words).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ipt_groups.checkins.item9 import item9_value, reads_as_yes
from ipt_groups.checkins.replies import parse_answer
from ipt_groups.checkins.wording import (
    PHQ9,
    SAFETY_ITEM,
    Instrument,
    closed_text,
    first_text,
    get_instrument,
    item9_number_text,
    prompt_text,
    reprompt_text,
    skipped_text,
    thank_you_text,
)

# Events the caller turns into safety alerts: item 9 above 0, unreadable, or never answered.
SAFETY, ITEM9_UNKNOWN, ITEM9_UNANSWERED = "safety", "item9_unknown", "item9_unanswered"
PHQ2_POSITIVE_AT = 3
PHQ9_BANDS = ((20, "severe"), (15, "moderately severe"), (10, "moderate"), (5, "mild"), (0, "minimal"))

OPEN, COMPLETE, EXPIRED = "open", "complete", "expired"


# --- scoring ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    """A total; band and positive are None unless every item was answered."""

    total: int
    band: str | None
    complete: bool
    positive: bool | None = None  # PHQ-2 only: total >= 3 is a positive screen


def score(instrument_key: Instrument | str, answers: list[int | None] | tuple[int | None, ...]) -> Score:
    """Score answers in item order; None or missing items make it incomplete.

    An incomplete score totals the answered items only, with complete=False and band/positive None:
    a partial PHQ-9 total under-counts, so it must never be banded or compared as if complete.
    """
    inst = get_instrument(instrument_key)
    _check_answers(inst, answers)
    given = [a for a in answers if a is not None]
    total = sum(given)
    if len(given) < len(inst.items):
        return Score(total, None, False)
    positive = total >= PHQ2_POSITIVE_AT if inst.key == "phq2" else None
    return Score(total, _band(inst, total), True, positive)


def reported_score(instrument_key: Instrument | str, answers) -> dict:
    """A check-in's score as reported: `score` only when every item has a value (never a partial
    total that reads as a real one), `partial_score` otherwise, and the 1-based `missing_items`."""
    inst = get_instrument(instrument_key)
    result = score(inst, answers)
    missing = [i + 1 for i in range(len(inst.items)) if i >= len(answers) or answers[i] is None]
    partial = result.total if not result.complete and len(missing) < len(inst.items) else None
    return {
        "score": result.total if result.complete else None,
        "partial_score": partial,
        "missing_items": missing,
    }


def _check_answers(inst: Instrument, answers) -> None:
    if len(answers) > len(inst.items):
        raise ValueError(f"{inst.key} has {len(inst.items)} items, got {len(answers)} answers")
    for a in answers:
        if a is not None and (isinstance(a, bool) or not inst.min <= a <= inst.max):
            raise ValueError(f"{inst.key} answers are {inst.min}-{inst.max} or None, got {a!r}")


def _band(inst: Instrument, total: int) -> str | None:
    if inst.key != "phq9":
        return None
    return next(name for floor, name in PHQ9_BANDS if total >= floor)


def response(baseline: Score | int, latest: Score | int) -> dict:
    """Compare two PHQ totals: the drop and whether it reaches 5 points, 10 points and 50%.

    A 50% drop needs a baseline above 0. Incomplete Scores raise ValueError: partial totals mislead.
    """
    before, after = _total(baseline), _total(latest)
    drop = before - after
    return {
        "baseline": before,
        "latest": after,
        "drop": drop,
        "drop_5": drop >= 5,
        "drop_10": drop >= 10,
        "drop_50_percent": before > 0 and 2 * drop >= before,
    }


def _total(value: Score | int) -> int:
    if isinstance(value, Score):
        if not value.complete:
            raise ValueError("cannot compare an incomplete score")
        return value.total
    return value


# --- conversation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conversation:
    """One member's survey in progress; answers[i] is item i's value, None if skipped after a re-prompt."""

    instrument: str
    answers: tuple[int | None, ...]
    position: int  # index of the item awaiting an answer; equals len(answers)
    reprompted: bool  # the current item has already been re-prompted once
    started_at: datetime
    expires_at: datetime
    status: str = OPEN
    begun: bool = True  # False while the invitation waits for the member's first reply


@dataclass(frozen=True)
class Step:
    """The outcome of one inbound answer: the new state, the SMS to send (if any) and events."""

    conv: Conversation
    reply_text: str | None
    events: tuple[tuple[str, object], ...] = ()


def start_conversation(
    instrument_key: Instrument | str, now: datetime, ttl: timedelta, invite: bool = False
) -> tuple[Conversation, str]:
    """Open a conversation; the first SMS is the neutral invitation (`invite`: the member's reply, any
    reply, begins it) or the neutral intro followed by item 1."""
    inst = get_instrument(instrument_key)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if ttl <= timedelta(0):
        raise ValueError("ttl must be positive")
    conv = Conversation(inst.key, (), 0, False, now, now + ttl, begun=not invite)
    return conv, first_text(inst, invite)


def answer(conv: Conversation, text: str, now: datetime, instrument: Instrument | None = None) -> Step:
    """Apply one inbound reply (already known not to be a keyword) to an open conversation, worded as
    `instrument` (the reader's language; English by default).

    The first reply to an invitation begins the check-in: item 1 is sent. A readable answer is
    recorded and the next item (or the thank-you) is sent. The first unreadable answer to an item is
    re-prompted once; the second records None for that item and moves on, so a member is never stuck.
    At or after expires_at nothing is recorded: the conversation expires.
    Events: ("safety", {"item": 9, "value": v}) when PHQ-9 item 9 > 0 (the caller alerts a human and
    sends the crisis line), ("completed", Score) and ("expired", Score); a Score with a None answer is
    incomplete. Item 9 is read for safety first, in every language (item9.py): its labels, number
    words and "no" give a value; words that mean yes or speak of how often are a "safety" event with
    value None at once (then the number is asked for once); a second unreadable answer, or a close
    after one, is ("item9_unknown", ...): a human reviews it, and the check-in stays incomplete.
    A reply to the item-9 prompt that arrives after expires_at still counts for safety.
    """
    if conv.status != OPEN:
        return Step(conv, None)
    inst = instrument or get_instrument(conv.instrument)
    if now >= conv.expires_at:
        return _expired_answer(conv, text, inst)
    if not conv.begun:
        return Step(replace(conv, begun=True), prompt_text(inst, 0))
    value = _read(conv, inst, text)
    if value is None and at_safety_item(conv):
        return _unreadable_item9(conv, inst, text)
    if value is None and not conv.reprompted:
        return Step(replace(conv, reprompted=True), reprompt_text(inst, conv.position))
    return _record(conv, inst, value)


def _read(conv: Conversation, inst: Instrument, text: str) -> int | None:
    value = parse_answer(text, inst)
    return item9_value(text) if value is None and at_safety_item(conv) else value


def _expired_answer(conv: Conversation, text: str, inst: Instrument) -> Step:
    late = late_answer(conv, text, inst)
    expired = replace(conv, status=EXPIRED)
    events = (*(late or closing_events(conv)), ("expired", conversation_score(conv)))
    return Step(expired, None if late else closed_text(inst), events)


def _unreadable_item9(conv: Conversation, inst: Instrument, text: str) -> Step:
    yes = reads_as_yes(text)
    events = ((SAFETY, {"item": SAFETY_ITEM, "value": None, "words": True}),) if yes else ()
    if not conv.reprompted:
        reply = item9_number_text(inst) if yes else reprompt_text(inst, conv.position)
        return Step(replace(conv, reprompted=True), reply, events)
    events = events or ((ITEM9_UNKNOWN, {"item": SAFETY_ITEM, "reason": "two unreadable answers"}),)
    step = _record(conv, inst, None)
    return replace(step, events=events + step.events)


def at_safety_item(conv: Conversation) -> bool:
    """Whether the conversation is waiting for the answer to PHQ-9 item 9."""
    return conv.instrument == PHQ9.key and conv.position == SAFETY_ITEM - 1


def late_answer(
    conv: Conversation, text: str, instrument: Instrument | None = None
) -> tuple[tuple[str, object], ...]:
    """The safety event of a reply to the item-9 prompt after the conversation closed: a value above
    0, or words that mean yes; nothing is recorded (the check-in is closed)."""
    if not at_safety_item(conv):
        return ()
    value = _read(conv, instrument or PHQ9, text)
    if value is None and reads_as_yes(text):
        return ((SAFETY, {"item": SAFETY_ITEM, "value": None, "words": True, "late": True}),)
    if value:
        return ((SAFETY, {"item": SAFETY_ITEM, "value": value, "late": True}),)
    return ()


def closing_events(conv: Conversation) -> tuple[tuple[str, object], ...]:
    """A conversation closed (expired, cancelled, replaced) while it waited for item 9: after an
    unreadable answer, or with none at all (a member who stops there may be the one at risk)."""
    if not at_safety_item(conv):
        return ()
    if conv.reprompted:
        return ((ITEM9_UNKNOWN, {"item": SAFETY_ITEM, "reason": "closed after an unreadable answer"}),)
    return ((ITEM9_UNANSWERED, {"item": SAFETY_ITEM, "reason": "closed with item 9 unanswered"}),)


def _record(conv: Conversation, inst: Instrument, value: int | None) -> Step:
    events = _safety_events(inst, conv.position, value)
    conv = replace(conv, answers=(*conv.answers, value), position=conv.position + 1, reprompted=False)
    if conv.position < len(inst.items):
        text = skipped_text(inst, conv.position) if value is None else prompt_text(inst, conv.position)
        return Step(conv, text, events)
    done = replace(conv, status=COMPLETE)
    return Step(done, thank_you_text(inst), (*events, ("completed", conversation_score(done))))


def _safety_events(inst: Instrument, index: int, value: int | None) -> tuple[tuple[str, object], ...]:
    if inst.key == "phq9" and index == SAFETY_ITEM - 1 and value is not None and value > 0:
        return ((SAFETY, {"item": SAFETY_ITEM, "value": value}),)
    return ()


def expire(conv: Conversation, now: datetime) -> Conversation:
    """Mark an open conversation expired at or after expires_at, keeping its partial answers."""
    if conv.status == OPEN and now >= conv.expires_at:
        return replace(conv, status=EXPIRED)
    return conv


def conversation_score(conv: Conversation) -> Score:
    """Score a conversation's answers so far (incomplete unless every item has a value)."""
    return score(conv.instrument, conv.answers)
