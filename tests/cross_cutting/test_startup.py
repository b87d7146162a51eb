"""Production refuses to start in a way that could let a safety alert go nowhere: SMS not really sent,
no valid on-call number, or webhooks not checked against the https URL Twilio calls."""

import logging

import pytest

from config import ProductionConfig
from ipt_groups.app import create_app
from ipt_groups.startup import check_config, config_problems

READY = {
    "ENV_NAME": "production",
    "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://app@db/ipt",
    "CALENDAR_FEED_SECRET": "s3cret",
    "SECRET_KEY": "k" * 32,
    "QUIET_HOURS": "21:00-08:00",
    "SMS_BACKEND": "twilio",
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "token",
    "TWILIO_MESSAGING_SERVICE_SID": "MG" + "0" * 32,
    "TWILIO_TIMEOUT_S": 10,
    "SMS_MAX_RETRIES": 3,
    "SMS_RETRY_BASE_S": 1.0,
    "ONCALL_PHONE": "+13125550100",
    "PUBLIC_BASE_URL": "https://groups.example.org",
}


def test_a_complete_production_config_starts():
    assert config_problems(READY) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"SMS_BACKEND": "console"}, "SMS_BACKEND='console' sends nothing: production needs twilio"),
        ({"ONCALL_PHONE": ""}, "ONCALL_PHONE is required in production"),
        ({"ONCALL_PHONE": "(312) 555-0100"}, "ONCALL_PHONE='(312) 555-0100' is not a valid phone number"),
        ({"ONCALL_PHONE": "+1202555099"}, "is not a valid phone number in E.164 form"),
        ({"ONCALL_PHONE": "call Ana"}, "is not a valid phone number"),
        ({"PUBLIC_BASE_URL": ""}, "PUBLIC_BASE_URL must be the https URL Twilio calls"),
        ({"PUBLIC_BASE_URL": "http://groups.example.org"}, "PUBLIC_BASE_URL must be the https URL"),
        ({"PUBLIC_BASE_URL": "https://"}, "PUBLIC_BASE_URL must be the https URL"),
        # shapes no signature can verify against (issue 11's review, finding 9a)
        ({"PUBLIC_BASE_URL": "https://groups.example.org "}, "holds spaces"),
        ({"PUBLIC_BASE_URL": " https://groups.example.org"}, "holds spaces"),
        ({"PUBLIC_BASE_URL": "https://groups.example.org/twilio/sms"}, "is a webhook's URL"),
        ({"PUBLIC_BASE_URL": "https://groups.example.org/twilio"}, "is a webhook's URL"),
        ({"PUBLIC_BASE_URL": "https://groups.example.org/?x=1"}, "has a query or fragment"),
        # a drill must still read webhooks; a programme outside the US must name its crisis line
        (
            {"SMS_BACKEND": "console", "SMS_DRILL": True, "TWILIO_AUTH_TOKEN": ""},
            "TWILIO_AUTH_TOKEN is required",
        ),
        (
            {"DEFAULT_PHONE_REGION": "GB"},
            "CRISIS_LINE_TEXT is required in production when DEFAULT_PHONE_REGION",
        ),
        (
            {"DEFAULT_PHONE_REGION": "MX", "CRISIS_LINE_TEXTS": {"es": "Llame al 800 911 2000"}},
            "CRISIS_LINE_TEXT is",
        ),
    ],
)
def test_each_production_refusal(change, problem):
    problems = config_problems(READY | change)
    assert len(problems) == 1 and problem in problems[0]
    with pytest.raises(RuntimeError, match="configuration problems"):
        check_config(READY | change)


@pytest.mark.parametrize(
    "change",
    [
        {"DEFAULT_PHONE_REGION": "GB", "CRISIS_LINE_TEXT": "Call Samaritans on 116 123"},
        {"DEFAULT_PHONE_REGION": "us"},
    ],
)
def test_a_crisis_line_for_the_region_starts(change):
    assert config_problems(READY | change) == []


@pytest.mark.parametrize("base", ["https://groups.example.org", "https://groups.example.org/app/"])
def test_a_base_url_with_a_path_of_its_own_starts(base):
    assert config_problems(READY | {"PUBLIC_BASE_URL": base}) == []


def test_a_malformed_base_url_is_refused_outside_production_too():
    assert config_problems({"QUIET_HOURS": "21:00-08:00", "SMS_BACKEND": "console", "PUBLIC_BASE_URL": "x "})


def test_every_problem_is_named_at_once():
    problems = config_problems(READY | {"SMS_BACKEND": "console", "ONCALL_PHONE": "", "PUBLIC_BASE_URL": ""})
    assert len(problems) == 3


def test_a_drill_may_run_production_with_console_sms_and_says_so(caplog):
    drill = READY | {"SMS_BACKEND": "console", "SMS_DRILL": True}
    assert config_problems(drill) == []
    with caplog.at_level(logging.WARNING):
        check_config(drill)
    assert "SMS_DRILL=1" in caplog.text and "no SMS leaves" in caplog.text


def test_the_production_app_refuses_to_start_without_them(monkeypatch):
    overrides = {k: v for k, v in READY.items() if k != "ENV_NAME"} | {"SMS_BACKEND": "console"}
    with pytest.raises(RuntimeError, match="SMS_BACKEND='console' sends nothing"):
        create_app(ProductionConfig, **overrides)


def test_outside_production_the_on_call_number_is_optional_but_checked():
    dev = {k: v for k, v in READY.items() if k != "ENV_NAME"} | {
        "SMS_BACKEND": "console",
        "PUBLIC_BASE_URL": "",
    }
    assert config_problems(dev | {"ONCALL_PHONE": ""}) == []
    assert "ONCALL_PHONE" in config_problems(dev | {"ONCALL_PHONE": "12345"})[0]


def test_production_checks_signatures_against_public_base_url_only(app, monkeypatch):
    from ipt_groups.checkins.webhooks import public_url

    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "")
    with app.test_request_context("http://attacker.example/twilio/sms", method="POST"):
        assert public_url() == "http://attacker.example/twilio/sms"  # development: the request's URL
        monkeypatch.setitem(app.config, "ENV_NAME", "production")
        assert public_url() == "/twilio/sms"  # never a host the request names (and so never valid)
        monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://groups.example.org/")
        assert public_url() == "https://groups.example.org/twilio/sms"


@pytest.mark.parametrize(
    ("fmt", "ok"),
    [("%m/%d/%Y", True), ("%d/%m/%Y", True), ("%d.%m.%Y", True), ("", True), ("%m/%Y", False), ("%Q", False)],
)
def test_the_import_date_format_must_read_back_the_day_it_writes(fmt, ok):
    problems = config_problems(READY | {"IMPORT_DATE_FORMAT": fmt})
    assert problems == (
        [] if ok else [f"IMPORT_DATE_FORMAT={fmt!r} is not a date format such as %m/%d/%Y or %d/%m/%Y"]
    )
