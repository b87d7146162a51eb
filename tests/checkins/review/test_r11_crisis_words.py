"""Review of issue 11, from outside: words of crisis a member in distress really writes at 3 a.m.,
through the signed webhook. Each case was a finding (a strict xfail until its fix)."""

import pytest

from ipt_groups.messaging.catalogue import shipped
from ipt_groups.models import Alert
from tests.checkins.test_webhooks import reply, sms, twilio_config  # noqa: F401 (twilio_config: autouse fixture)
from tests.conftest import count

CRISIS_LINE_TEXTS = {lang: c.texts["crisis_line"] for lang, c in shipped().by_language.items()}


def _alerted(client, text) -> bool:
    assert reply(sms(client, text)).startswith("<?xml")
    return count(Alert) > 0


@pytest.mark.parametrize(
    "text",
    [
        "im going to end it tonight",
        "i cant do this anymore, i just want to end it",
        "killing my self",
        "gonna take my life",
        "i dont wanna live anymore",
        "i should just die",
        "i wish i could die",
        "life isnt worth living",
        "thinking about hanging myself",
        "took a whole bottle of pills",
        "k1ll myself",
        "su1c1de",
        "sui-cide",
        "iwanttodie",
    ],
)
def test_english_forms_of_crisis_alert(client, member, text):
    assert _alerted(client, text)


@pytest.mark.parametrize(
    "text",
    [
        "me kiero matar",
        "kiero morirme",
        "me voy a quitar la vida",
        "quiero estar muerta",
        "mejor me muero",
        "ya no quiero estar aquí",
        "no vale la pena seguir viviendo",
        "me voy a tomar todas las pastillas",
    ],
)
def test_spanish_forms_of_crisis_alert(client, make_member, text):
    rosa = make_member(1, language="es")
    assert reply(sms(client, text, sender=rosa.phone)).startswith("<?xml")
    assert count(Alert) == 1


@pytest.mark.parametrize(
    "first, second",
    [("I want to", "die"), ("i'm going to kill", "myself"), ("me quiero", "morir")],
)
def test_a_crisis_split_over_two_texts_alerts_and_gets_the_crisis_line(client, member, first, second):
    sms(client, first)
    text = reply(sms(client, second))
    assert count(Alert) == 1 and CRISIS_LINE_TEXTS["en"] in text.replace("&#x27;", "'")
