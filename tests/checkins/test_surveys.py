"""Tests for the SMS survey core: keywords, answers, scoring, conversations, item 9, privacy (crisis
words: test_crisis.py)."""

from datetime import UTC, datetime, timedelta

import pytest

from ipt_groups.checkins import instruments, replies, wording
from ipt_groups.checkins.instruments import (
    Conversation,
    Score,
    answer,
    expire,
    response,
    score,
    start_conversation,
)
from ipt_groups.checkins.replies import classify, parse_answer
from ipt_groups.checkins.wording import (
    MOOD,
    PHQ2,
    PHQ9,
    closed_text,
    intro_text,
    message_texts,
    prompt_text,
    thank_you_text,
)
from ipt_groups.messaging.catalogue import shipped
from ipt_groups.messaging.segments import GSM7, measure
from ipt_groups.messaging.texts import reveals_therapy

NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
TTL = timedelta(hours=48)
ENGLISH = shipped().reference


def _casings(word: str) -> list[str]:
    return [word, word.lower(), word.capitalize(), f" {word.lower()} ", f"{word.capitalize()}.", f"{word}!!"]


# --- keywords --------------------------------------------------------------------------------------

KEYWORD_CASES = [
    (text, kind, word)
    for kind, words in (
        ("stop", ENGLISH.keywords["opt_out"]),
        ("start", ENGLISH.keywords["opt_in"]),
        ("help", ENGLISH.keywords["help"]),
    )
    for word in words
    for text in _casings(word)
]


@pytest.mark.parametrize(("text", "kind", "keyword"), KEYWORD_CASES)
def test_keywords_in_any_casing_and_punctuation(text, kind, keyword):
    assert classify(text) == replies.Inbound(kind, keyword, text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("C", "rsvp_confirm"),
        ("c", "rsvp_confirm"),
        (" c. ", "rsvp_confirm"),
        ("confirm", "rsvp_confirm"),
        ("Confirm!", "rsvp_confirm"),
        ("X", "rsvp_decline"),
        ("x", "rsvp_decline"),
        ("\tX\n", "rsvp_decline"),
        ("cancel", "stop"),  # carrier standard: CANCEL opts out, so RSVP decline is X
        ("yes", "resubscribe"),  # YES opts in again only a member who opted out (the inbox decides)
        ("2", "other"),  # digits are survey answers
        ("0", "other"),
        ("stop it please", "other"),  # carriers apply only the exact keyword
        ("S T O P", "other"),
        ("stopp", "other"),
        ("stop stop", "other"),
        ("help me", "other"),
        ("cc", "other"),
        ("", "other"),
    ],
)
def test_classify_kinds(text, kind):
    assert classify(text).kind == kind


@pytest.mark.parametrize(
    ("text", "hint"),
    [("please stop texting me", True), ("how do I opt-out", True), ("Unsubscribe me", True), ("2", False)],
)
def test_free_text_opt_out_is_only_a_hint(text, hint):
    inbound = classify(text)
    assert (inbound.kind, inbound.mentions_opt_out) == ("other", hint)


# --- answers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "instrument", "expected"),
    [
        ("2", PHQ9, 2),
        ("0", PHQ9, 0),
        ("3", PHQ9, 3),
        (" 2. ", PHQ9, 2),
        ("two", PHQ9, 2),
        ("Zero", PHQ9, 0),
        ("THREE!", PHQ9, 3),
        ("none", PHQ9, 0),
        ("2 more than half the days", PHQ9, 2),
        ("2 - more than half", PHQ9, 2),
        ("2) more than half the days", PHQ9, 2),
        ("1, several days I think", PHQ9, 1),
        ("More than half the days", PHQ9, 2),
        ("  more  than half the days!! ", PHQ9, 2),
        ("Nearly every day.", PHQ9, 3),
        ("nearly everyday", PHQ9, 3),
        ("NOT AT ALL", PHQ9, 0),
        ("several days", PHQ2, 1),
        ("２", PHQ9, 2),  # full-width digit
        ("٢", PHQ9, 2),  # Arabic-Indic digit
        ("2/3", PHQ9, 2),
        ("0", MOOD, 0),
        ("10", MOOD, 10),
        ("7", MOOD, 7),
        ("ten", MOOD, 10),
        ("seven", MOOD, 7),
        ("7/10", MOOD, 7),
        ("10/10", MOOD, 10),
        ("6 out of 10", MOOD, 6),
        ("8 good week", MOOD, 8),
    ],
)
def test_accepted_answers(text, instrument, expected):
    assert parse_answer(text, instrument) == expected


@pytest.mark.parametrize(
    ("text", "instrument"),
    [
        ("4", PHQ9),  # out of range
        ("four", PHQ9),
        ("-1", PHQ9),
        ("11", MOOD),
        ("eleven", MOOD),
        ("100", MOOD),
        ("9" * 5000, MOOD),  # must not raise on Python's int-digits limit
        ("", PHQ9),
        ("   ", PHQ9),
        (None, PHQ9),
        ("?", PHQ9),
        ("2 or 3", PHQ9),  # ambiguous: another number in the text
        ("1-2", PHQ9),
        ("2.5", PHQ9),
        ("2 nearly every day", PHQ9),  # contradicts its own label
        ("2nd", PHQ9),
        ("one sec", PHQ9),  # number words are accepted only alone
        ("half the days", PHQ9),
        ("none", MOOD),  # "none" is a label synonym, and mood has no labels
        ("best", MOOD),
        ("7/9", MOOD),
        ("C", PHQ9),
    ],
)
def test_rejected_answers(text, instrument):
    assert parse_answer(text, instrument) is None


# --- scoring ---------------------------------------------------------------------------------------


def _phq9_with_total(total: int) -> list[int]:
    answers = [0] * 9
    for i in range(total):
        answers[i % 9] += 1
    return answers


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately severe"),
        (19, "moderately severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_bands_at_every_boundary(total, band):
    assert score("phq9", _phq9_with_total(total)) == Score(total, band, True)


@pytest.mark.parametrize(
    ("answers", "positive"),
    [([0, 0], False), ([1, 1], False), ([2, 1], True), ([0, 3], True), ([3, 3], True)],
)
def test_phq2_positive_at_three(answers, positive):
    assert score("phq2", answers) == Score(sum(answers), None, True, positive)


@pytest.mark.parametrize(
    ("key", "answers", "expected"),
    [
        ("mood", [7], Score(7, None, True)),
        ("mood", [None], Score(0, None, False)),
        ("phq9", [3, 3, None, 3, 3, 3, 3, 3, 3], Score(24, None, False)),
        ("phq9", [2, 2, 2], Score(6, None, False)),
        ("phq9", [], Score(0, None, False)),
        ("phq2", [3], Score(3, None, False)),
    ],
)
def test_incomplete_answers_total_what_was_answered_without_band(key, answers, expected):
    assert score(key, answers) == expected


@pytest.mark.parametrize(
    ("key", "answers"),
    [
        ("phq9", [4] + [0] * 8),
        ("phq9", [0] * 10),
        ("phq2", [-1, 0]),
        ("mood", [11]),
        ("mood", [True]),
        ("x", []),
    ],
)
def test_score_rejects_bad_input(key, answers):
    with pytest.raises(ValueError):
        score(key, answers)


@pytest.mark.parametrize(
    ("baseline", "latest", "drop_5", "drop_10", "halved"),
    [
        (14, 10, False, False, False),
        (14, 9, True, False, False),
        (14, 7, True, False, True),
        (20, 10, True, True, True),
        (20, 11, True, False, False),
        (9, 4, True, False, True),
        (11, 6, True, False, False),
        (8, 4, False, False, True),
        (0, 0, False, False, False),
        (5, 12, False, False, False),
    ],
)
def test_response_thresholds(baseline, latest, drop_5, drop_10, halved):
    result = response(baseline, latest)
    assert (result["drop"], result["drop_5"], result["drop_10"], result["drop_50_percent"]) == (
        baseline - latest,
        drop_5,
        drop_10,
        halved,
    )


def test_response_accepts_complete_scores_and_refuses_partial_ones():
    assert response(score("phq9", [2] * 9), score("phq9", [1] * 9))["drop"] == 9
    with pytest.raises(ValueError):
        response(score("phq9", [2] * 9), score("phq9", [1] * 8))


# --- conversations ---------------------------------------------------------------------------------


def _run(conv: Conversation, replies_: list[str], now: datetime = NOW) -> list:
    steps = []
    for text in replies_:
        step = answer(conv, text, now)
        steps.append(step)
        conv = step.conv
    return steps


def test_full_phq9_run():
    conv, first = start_conversation("phq9", NOW, TTL)
    assert first.startswith(intro_text("phq9")) and PHQ9.items[0] in first
    steps = _run(conv, ["1", "two", "3 nearly every day", "0", "1", "Several days", "2", "1", "0"])
    for i, step in enumerate(steps[:-1]):
        assert step.reply_text == prompt_text("phq9", i + 1) and step.events == ()
    last = steps[-1]
    assert last.conv.answers == (1, 2, 3, 0, 1, 1, 2, 1, 0)
    assert (last.conv.status, last.conv.position, last.reply_text) == (
        "complete",
        9,
        thank_you_text(PHQ9),
    )
    assert last.events == (("completed", Score(11, "moderate", True)),)


def test_start_conversation_sets_expiry_and_requires_aware_time():
    conv, _ = start_conversation("mood", NOW, TTL)
    assert (conv.started_at, conv.expires_at, conv.status, conv.answers) == (NOW, NOW + TTL, "open", ())
    with pytest.raises(ValueError):
        start_conversation("mood", NOW.replace(tzinfo=None), TTL)
    with pytest.raises(ValueError):
        start_conversation("mood", NOW, timedelta(0))


def test_invalid_answer_reprompts_once_then_accepts_a_valid_one():
    conv, _ = start_conversation("phq2", NOW, TTL)
    first, second = _run(conv, ["what?", "1"])
    assert first.reply_text == wording.reprompt_text("phq2", 0)
    assert "Reply 0, 1, 2 or 3: 0 not at all, 1 several days" in first.reply_text
    assert (first.conv.answers, first.conv.reprompted) == ((), True)
    assert (second.conv.answers, second.conv.reprompted, second.reply_text) == (
        (1,),
        False,
        prompt_text("phq2", 1),
    )


def test_second_invalid_answer_records_none_and_moves_on():
    conv, _ = start_conversation("phq2", NOW, TTL)
    steps = _run(conv, ["maybe", "dunno", "banana", "nope"])
    assert steps[1].conv.answers == (None,)
    assert steps[1].reply_text == "Skipped. " + prompt_text("phq2", 1)
    assert steps[2].reply_text == wording.reprompt_text("phq2", 1)  # the re-prompt is per item
    assert steps[3].conv.status == "complete"
    assert steps[3].events == (("completed", Score(0, None, False)),)


def test_answer_after_expiry_records_nothing_and_keeps_partial_answers():
    conv, _ = start_conversation("phq9", NOW, TTL)
    conv = _run(conv, ["2", "3"])[-1].conv
    step = answer(conv, "1", NOW + TTL)
    assert (step.conv.status, step.conv.answers, step.reply_text) == (
        "expired",
        (2, 3),
        closed_text(PHQ9),
    )
    assert step.events == (("expired", Score(5, None, False)),)
    assert answer(step.conv, "1", NOW + TTL) == instruments.Step(step.conv, None)


@pytest.mark.parametrize(
    ("at", "status"), [(NOW + TTL - timedelta(seconds=1), "open"), (NOW + TTL, "expired")]
)
def test_expire_marks_open_conversations_past_expiry(at, status):
    conv, _ = start_conversation("phq9", NOW, TTL)
    conv = _run(conv, ["1"])[-1].conv
    expired = expire(conv, at)
    assert (expired.status, expired.answers) == (status, (1,))
    assert instruments.conversation_score(expired).complete is False


def test_expire_leaves_completed_conversations_alone():
    conv, _ = start_conversation("mood", NOW, TTL)
    done = answer(conv, "6", NOW).conv
    assert expire(done, NOW + 2 * TTL).status == "complete"


@pytest.mark.parametrize(("item9", "safety"), [("0", None), ("1", 1), ("2", 2), ("nearly every day", 3)])
def test_item_9_above_zero_emits_safety_event(item9, safety):
    conv, _ = start_conversation("phq9", NOW, TTL)
    last = _run(conv, ["0"] * 8 + [item9])[-1]
    kinds = [kind for kind, _ in last.events]
    expected = [("safety", {"item": 9, "value": safety})] if safety else []
    assert [e for e in last.events if e[0] == "safety"] == expected
    assert kinds[-1] == "completed"


def test_safety_event_only_for_item_9():
    conv, _ = start_conversation("phq9", NOW, TTL)
    steps = _run(conv, ["3"] * 8)
    assert all(step.events == () for step in steps)


def test_two_unreadable_item_9_answers_are_a_review_event_and_incomplete():
    # Changed deliberately for issue 11: this used to complete silently with no event (scored as if 0).
    conv, _ = start_conversation("phq9", NOW, TTL)
    steps = _run(conv, ["0"] * 8 + ["?", "?"])
    assert "Sorry, I didn't understand" in steps[-2].reply_text and steps[-2].events == ()
    assert steps[-1].events == (
        ("item9_unknown", {"item": 9, "reason": "two unreadable answers"}),
        ("completed", Score(0, None, False)),
    )
    assert steps[-1].conv.answers[-1] is None and steps[-1].conv.status == "complete"


def _at_item_9(now: datetime = NOW) -> Conversation:
    conv, _ = start_conversation("phq9", now, TTL)
    return _run(conv, ["0"] * 8)[-1].conv


@pytest.mark.parametrize(
    "text", ["yes", "Yes sometimes", "sí", "SIIII", "a veces", "every day", "yeah, often"]
)
def test_words_that_mean_yes_to_item_9_alert_at_once_and_ask_for_the_number(text):
    step = answer(_at_item_9(), text, NOW)
    assert step.events == (("safety", {"item": 9, "value": None, "words": True}),)
    assert step.conv.reprompted and step.conv.status == "open" and step.conv.answers == (0,) * 8
    assert (
        step.reply_text == instruments.item9_number_text("phq9")
        and "didn't understand" not in step.reply_text
    )
    then = answer(step.conv, "2", NOW)
    assert then.events[0] == ("safety", {"item": 9, "value": 2}) and then.conv.answers[-1] == 2
    assert then.events[-1] == ("completed", Score(2, "minimal", True))


def test_yes_twice_to_item_9_alerts_and_records_nothing():
    first = answer(_at_item_9(), "yes", NOW)
    last = answer(first.conv, "yes I said", NOW)
    assert last.events[0] == ("safety", {"item": 9, "value": None, "words": True})
    assert last.conv.answers[-1] is None and last.conv.status == "complete"
    assert last.events[-1] == ("completed", Score(0, None, False))


@pytest.mark.parametrize(("second", "event"), [("2", ("safety", {"item": 9, "value": 2})), ("0", None)])
def test_an_unreadable_item_9_answer_then_a_number(second, event):
    first = answer(_at_item_9(), "hmm", NOW)
    assert first.events == () and first.conv.reprompted
    last = answer(first.conv, second, NOW)
    assert [e for e in last.events if e[0] == "safety"] == ([event] if event else [])
    assert last.conv.answers[-1] == int(second)


@pytest.mark.parametrize(
    ("text", "yes"),
    [
        ("yes", True),
        ("Yes sometimes", True),
        ("Sí", True),
        ("a veces", True),
        ("de vez en cuando", True),
        ("sometimes", True),
        ("no", False),
        ("nunca", False),
        ("yesterday", False),
        ("maybe", False),
        ("", False),
    ],
)
def test_reads_as_yes(text, yes):
    assert instruments.reads_as_yes(text) is yes


@pytest.mark.parametrize(
    ("text", "event"),
    [
        ("3", {"item": 9, "value": 3, "late": True}),
        ("1 several days", {"item": 9, "value": 1, "late": True}),
        ("yes", {"item": 9, "value": None, "words": True, "late": True}),
        ("0", None),
        ("ok", None),
    ],
)
def test_a_reply_to_item_9_after_expiry_still_counts_for_safety(text, event):
    conv = _at_item_9()
    late = NOW + TTL
    step = answer(conv, text, late)
    assert step.conv.status == "expired" and step.conv.answers == (0,) * 8  # nothing recorded
    safety = [e for e in step.events if e[0] == "safety"]
    assert safety == ([("safety", event)] if event else [])
    assert step.reply_text == (None if event else closed_text(PHQ9))  # the caller sends the crisis line
    expired = instruments.expire(conv, late)
    assert instruments.late_answer(expired, text) == ((("safety", event),) if event else ())


def test_late_answers_count_only_at_item_9():
    conv, _ = start_conversation("phq9", NOW, TTL)
    at_item_3 = _run(conv, ["0", "0"])[-1].conv
    assert instruments.late_answer(instruments.expire(at_item_3, NOW + TTL), "3") == ()
    phq2 = _run(start_conversation("phq2", NOW, TTL)[0], ["0"])[-1].conv
    assert instruments.late_answer(instruments.expire(phq2, NOW + TTL), "3") == ()


def test_closing_after_an_unreadable_item_9_answer_is_a_review_event():
    conv = _at_item_9()
    # silent at item 9 (issue 11's review): a review event of its own
    assert instruments.closing_events(conv) == (
        ("item9_unanswered", {"item": 9, "reason": "closed with item 9 unanswered"}),
    )
    assert instruments.closing_events(_run(start_conversation("phq9", NOW, TTL)[0], ["0"] * 7)[-1].conv) == ()
    unread = answer(conv, "hmm", NOW).conv
    assert instruments.closing_events(unread) == (
        ("item9_unknown", {"item": 9, "reason": "closed after an unreadable answer"}),
    )
    expired = answer(unread, "whatever", NOW + TTL)
    assert expired.events[0][0] == "item9_unknown" and expired.reply_text == closed_text(PHQ9)


# --- privacy and length ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Your therapy group meets today", ["therapy"]),
        ("IPT-G session 3", ["IPT"]),
        ("about your role_dispute", ["role dispute"]),
        ("Mental  Health check", ["mental health"]),
        ("Feeling depressed?", ["depressed"]),
        ("Your counsellor and therapist", ["therapist", "counsellor"]),
        ("Keep your receipt; your group meets on Tuesday", []),
        ("Hi, time for your check-in", []),
    ],
)
def test_reveals_therapy(text, found):
    assert reveals_therapy(text) == found


@pytest.mark.parametrize("key", sorted(wording.INSTRUMENTS))
def test_intro_mentions_nothing_revealing(key):
    intro = intro_text(key)
    assert intro and "check-in" in intro and reveals_therapy(intro) == []


MESSAGES = [(key, text) for key in sorted(wording.INSTRUMENTS) for text in message_texts(key)]


@pytest.mark.parametrize(("key", "text"), MESSAGES)
def test_every_message_is_private_except_phq_item_2_wording(key, text):
    # Documented exemption: PHQ item wording is validated and may not be reworded.
    expected = ["depressed"] if PHQ9.items[1] in text else []
    assert reveals_therapy(text) == expected


@pytest.mark.parametrize(("key", "text"), MESSAGES)
def test_every_message_fits_two_gsm7_segments(key, text):
    # Curly quotes or an emoji would make it UCS-2 and halve the characters per segment.
    assert measure(text).encoding == GSM7 and measure(text).count <= 2


@pytest.mark.parametrize("key", ["phq9", "phq2"])
def test_phq_prompts_say_how_to_answer(key):
    guide = "Reply 0, 1, 2 or 3: 0 not at all, 1 several days, 2 more than half the days, 3 nearly every day"
    for i, item in enumerate(wording.INSTRUMENTS[key].items):
        assert item in prompt_text(key, i) and guide in prompt_text(key, i)


def test_mood_prompt_text():
    assert prompt_text("mood", 0) == "How has your mood been this week? Reply 0 (worst) to 10 (best)"
