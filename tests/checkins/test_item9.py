"""PHQ-9 item 9 in members' words, every language tried: labels and number words give their value, a
plain no is 0, words of yes or of how often are above 0 (value unknown), anything else is unreadable;
the words are data, and other catalogues can be read with."""

from pathlib import Path

import pytest

from ipt_groups.checkins.item9 import ITEM9_WORDS, Item9Words, item9_value, reads_as_yes


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("varios días", 1),
        ("Varios dias.", 1),
        ("más de la mitad de los días", 2),
        ("casi todos los días", 3),
        ("ningún día", 0),
        ("dos", 2),
        ("TRES", 3),
        ("uno", 1),
        ("cero", 0),
        ("several days", 1),
        ("no", 0),
        ("No.", 0),
        ("nope", 0),
        ("never", 0),
        ("no, never", 0),
        ("no thanks", 0),
        ("nunca", 0),
        ("para nada", 0),
        ("ni una vez", 0),
        ("not a single day", 0),
        ("no se", None),  # "I don't know": unreadable, never 0
        ("not really", None),
        ("maybe", None),
        ("no, sometimes", None),  # a yes after the no: not 0 (reads_as_yes says above 0)
        ("dos o tres", None),
        ("", None),
    ],
)
def test_item9_value(text, value):
    assert item9_value(text) == value


@pytest.mark.parametrize(
    ("text", "yes"),
    [
        ("more than half", True),
        ("most of the time", True),
        ("every night", True),
        ("a few times a week", True),
        ("casi nunca", True),  # "hardly ever" is above 0
        ("mas de la mitad", True),
        ("algunas noches", True),
        ("yes", True),
        ("sí", True),
        ("no, sometimes", True),
        ("no", False),
        ("nunca", False),
        ("yesterday", False),
        ("maybe", False),
        ("no se", False),
        ("", False),
    ],
)
def test_reads_as_yes_mentions_of_days_and_how_often_count(text, yes):
    assert reads_as_yes(text) is yes


def test_other_catalogues_can_be_read_with():
    portuguese = Item9Words(
        labels=("nenhuma vez", "vários dias", "mais da metade dos dias", "quase todos os dias"),
        numbers={"dois": 2},
        no=("não", "nunca"),
        frequency=("dias",),
    )
    catalogues = {**ITEM9_WORDS, "pt": portuguese}
    assert item9_value("mais da metade dos dias", catalogues) == 2
    assert item9_value("mais da metade dos dias") is None
    assert item9_value("dois", catalogues) == 2 and item9_value("não", catalogues) == 0
    assert reads_as_yes("alguns dias", {"pt": portuguese}) and not reads_as_yes("alguns dias", {})


@pytest.mark.parametrize("language", sorted(ITEM9_WORDS))
def test_the_docs_list_every_word(language):
    text = (Path(__file__).resolve().parents[2] / "docs" / "crisis-phrases.md").read_text(encoding="utf-8")
    words = ITEM9_WORDS[language]
    listed = [*words.no, *words.yes, *words.frequency, *words.fillers]
    listed += [f"{value} {label}" for value, label in enumerate(words.labels)]
    listed += [f"{word} {value}" for word, value in words.numbers.items()]
    assert [w for w in listed if f"`{w}`" not in text] == []
