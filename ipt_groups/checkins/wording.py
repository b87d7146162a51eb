"""Check-ins in the reader's language: the instruments' wording (the validated PHQ-9 and PHQ-2
translations, the weekly mood rating) and every text of a check-in conversation, taken from the reader's
catalogue (messaging/catalogue.py), with a programme's own texts if it replaced any. Pure.

Lock screens: a check-in opens with a neutral invitation the member answers to begin (or, if the
programme chooses, a neutral intro and item 1). Each prompt then starts with its number and the answer
scale, and ends with the item: the item's validated wording is never changed, so an expanded
notification still shows it (item 2 names feeling depressed, item 9 being better off dead)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ipt_groups.messaging.catalogue import Catalogue, fold, render, shipped

SAFETY_ITEM = 9  # PHQ-9 item 9: any answer above 0 needs same-day human follow-up
# Each instrument's shape: how many items (of the PHQ's item keys, or its own), and its answer range.
SHAPES = {"phq9": ("phq", 9, 0, 3), "phq2": ("phq", 2, 0, 3), "mood": ("mood", 1, 0, 10)}


@dataclass(frozen=True)
class Instrument:
    """A questionnaire in one language: items asked one per SMS, each answered with an integer in
    [min, max], by digits, number words, or (PHQ) its labels."""

    key: str
    items: tuple[str, ...]
    min: int
    max: int
    labels: tuple[str, ...] = ()  # labels[i] names the answer min + i
    stem: str = ""  # a short form of the question stem, repeated in each prompt
    guide: str = ""  # how to answer
    texts: Mapping[str, str] = field(default_factory=dict, repr=False)  # the check-in texts
    number_words: Mapping[str, int] = field(default_factory=dict, repr=False)  # folded word -> value
    none_words: tuple[str, ...] = ()  # words meaning the first label (0) on a labelled scale
    language: str = "en"
    programme: str = ""

    @property
    def answer_guide(self) -> str:
        """How to answer, e.g. "Reply 0, 1, 2 or 3: 0 not at all, 1 several days, ..."."""
        return self.guide


def instrument_for(key: str, catalogue: Catalogue, programme: str = "") -> Instrument:
    """The instrument `key` worded in `catalogue`'s language. Number words of English are accepted too
    (a reader may answer "two" whatever their language)."""
    if key not in SHAPES:
        raise ValueError(f"unknown instrument {key!r}; expected one of {sorted(SHAPES)}")
    family, count, low, high = SHAPES[key]
    texts = catalogue.texts
    english = shipped().reference
    labels = tuple(texts[f"phq_label{i}"] for i in range(4)) if family == "phq" else ()
    items = (
        tuple(texts[f"phq_item{i + 1}"] for i in range(count)) if family == "phq" else (texts["mood_item"],)
    )
    guide = render(texts[f"{family}_guide"], {f"label{i}": label for i, label in enumerate(labels)})
    return Instrument(
        key,
        items,
        low,
        high,
        labels,
        stem=texts.get("phq_stem", "") if family == "phq" else "",
        guide=guide,
        texts=texts,
        number_words={**english.numbers, **catalogue.numbers},
        none_words=tuple(fold(w) for w in dict.fromkeys((*catalogue.none_words, *english.none_words))),
        language=catalogue.language,
        programme=programme,
    )


INSTRUMENTS = {key: instrument_for(key, shipped().reference) for key in SHAPES}
PHQ9, PHQ2, MOOD = INSTRUMENTS["phq9"], INSTRUMENTS["phq2"], INSTRUMENTS["mood"]


def get_instrument(instrument: Instrument | str) -> Instrument:
    """The Instrument for a key (English), or the Instrument itself; ValueError for unknown keys."""
    if isinstance(instrument, Instrument):
        return instrument
    if instrument not in INSTRUMENTS:
        raise ValueError(f"unknown instrument {instrument!r}; expected one of {sorted(INSTRUMENTS)}")
    return INSTRUMENTS[instrument]


def _family(inst: Instrument) -> str:
    return SHAPES[inst.key][0]


def _text(inst: Instrument, key: str, **context) -> str:
    return render(inst.texts[key], {"programme": inst.programme, "count": len(inst.items), **context})


def invitation_text(instrument: Instrument | str) -> str:
    """The neutral first SMS the member answers to begin: no item, no word of therapy or symptoms."""
    inst = get_instrument(instrument)
    return _text(inst, f"{_family(inst)}_invitation")


def intro_text(instrument: Instrument | str) -> str:
    """The neutral opening line before item 1, when a check-in starts with its first item."""
    inst = get_instrument(instrument)
    return _text(inst, f"{_family(inst)}_intro")


def first_text(instrument: Instrument | str, invite: bool) -> str:
    """A check-in's first SMS: the invitation, or the intro and item 1."""
    inst = get_instrument(instrument)
    return invitation_text(inst) if invite else f"{intro_text(inst)} {prompt_text(inst, 0)}"


def prompt_text(instrument: Instrument | str, index: int) -> str:
    """One item's SMS: its number and how to answer, then the item ("Q2/9 Reply 0, 1, 2 or 3: ...")."""
    inst = get_instrument(instrument)
    if len(inst.items) == 1:
        return _text(inst, "checkin_single", item=inst.items[index], guide=inst.guide)
    return _text(
        inst, "checkin_prompt", number=index + 1, stem=inst.stem, item=inst.items[index], guide=inst.guide
    )


def reprompt_text(instrument: Instrument | str, index: int) -> str:
    """The one re-prompt after an unreadable answer: the allowed answers, and how to opt out."""
    inst = get_instrument(instrument)
    which = _text(inst, "checkin_reprompt_which", number=index + 1) if len(inst.items) > 1 else ""
    return _text(inst, "checkin_reprompt", which=which, guide=inst.guide)


def skipped_text(instrument: Instrument | str, index: int) -> str:
    """The next item's prompt after an item was skipped (two unreadable answers)."""
    inst = get_instrument(instrument)
    return _text(inst, "checkin_skipped", prompt=prompt_text(inst, index))


def item9_number_text(instrument: Instrument | str) -> str:
    """After words that mean yes to item 9 (sent with the crisis line): the number, if they can."""
    inst = get_instrument(instrument)
    return _text(inst, "checkin_item9_number", number=SAFETY_ITEM, guide=inst.guide)


def thank_you_text(instrument: Instrument | str) -> str:
    """The closing SMS of a completed check-in."""
    return _text(get_instrument(instrument), "checkin_thanks")


def closed_text(instrument: Instrument | str) -> str:
    """The reply to an answer that came after the check-in closed."""
    return _text(get_instrument(instrument), "checkin_closed")


def named_texts(instrument: Instrument | str) -> dict[str, str]:
    """Every SMS a conversation on this instrument can send, by what it is ("prompt 2", "closed")."""
    inst = get_instrument(instrument)
    indexes = range(len(inst.items))
    texts = {"invitation": first_text(inst, True), "intro and item 1": first_text(inst, False)}
    texts |= {f"prompt {i + 1}": prompt_text(inst, i) for i in indexes}
    texts |= {f"re-prompt {i + 1}": reprompt_text(inst, i) for i in indexes}
    texts |= {f"skipped, prompt {i + 1}": skipped_text(inst, i) for i in indexes[1:]}
    texts |= {"item 9 number": item9_number_text(inst)} if inst.key == "phq9" else {}
    return texts | {"thanks": thank_you_text(inst), "closed": closed_text(inst)}


def message_texts(instrument: Instrument | str) -> list[str]:
    """Every SMS a conversation on this instrument can send, for privacy and length checks."""
    return list(named_texts(instrument).values())
