"""Languages across the product: a programme adds a third language with a catalogue file alone (no
code change), checks it with `ipt check-catalogues`, and sees who falls back to English: a warning when
a member or facilitator is created, changed or imported, and a filter that lists them."""

from datetime import date
from pathlib import Path

from ipt_groups.cycles.operations import start_cycle
from ipt_groups.extensions import db as _db
from ipt_groups.groups.operations import enrol_member
from ipt_groups.messaging.base import RecordingSender
from ipt_groups.messaging.catalogue import shipped
from ipt_groups.messaging.dispatch import run_tick
from ipt_groups.models import GroupSession, Member, Message
from ipt_groups.startup import config_problems
from ipt_groups.worker import dispatch_settings
from tests.checkins.test_webhooks import reply, sms, twilio_config  # noqa: F401
from tests.conftest import NOW, member_data

EN_TOML = Path(shipped().reference.source).read_text(encoding="utf-8")
PORTUGUESE = {
    'name = "English"': 'name = "Português"',
    'locale = "en"': 'locale = "pt_BR"',
    "when = \"EEE dd MMM 'at' HH:mm\"": "when = \"EEE, d 'de' MMM, HH:mm\"",
    '"Hi {first_name}, a reminder from {programme}: your group meets {day}, {when}. Reply C to confirm or X '
    "if you can't come.\"": '"Olá {first_name}, lembrete de {programme}: seu grupo se reúne {day}, {when}. '
    'Responda C para confirmar ou X se não puder vir."',
    'day_tomorrow = "tomorrow"': 'day_tomorrow = "amanhã"',
    'opt_out = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"]': (
        'opt_out = ["PARE", "SAIR"]'
    ),
    'opt_in = ["START", "UNSTOP"]': 'opt_in = ["VOLTAR"]',
    'resubscribe = ["YES"]': "resubscribe = []",
    'help = ["HELP", "INFO"]': 'help = ["AJUDA"]',
    'rsvp_confirm = ["C", "CONFIRM"]': 'rsvp_confirm = ["C", "CONFIRMO"]',
    "zero = 0\none = 1\ntwo = 2\nthree = 3": 'zero = 0\num = 1\ndois = 2\n"três" = 3',
    'none = ["none"]': 'none = ["nunca"]',
}


def portuguese_catalogue() -> str:
    text = EN_TOML
    for english, portuguese in PORTUGUESE.items():
        assert english in text, english
        text = text.replace(english, portuguese)
    return text


def test_a_third_language_from_a_catalogue_file_alone(
    app, client, auth, tmp_path, monkeypatch, make_facilitator, make_group
):
    created = client.post(
        "/api/v1/members", json=member_data(0, name="João Silva", language="pt-BR"), headers=auth
    )
    assert created.status_code == 201 and "no catalogue for language 'pt-BR'" in created.json["warnings"][0]
    (tmp_path / "pt-BR.toml").write_text(portuguese_catalogue(), encoding="utf-8")
    monkeypatch.setitem(app.config, "CATALOGUE_DIRS", [str(tmp_path)])  # as a restart with the setting
    assert config_problems(app.config) == []  # start-up accepts it
    assert client.get(f"/api/v1/members/{created.json['id']}", headers=auth).json["warnings"] == []
    group = make_group(make_facilitator(0, languages=["pt-BR"]).id, name="Terça", language="pt-BR")
    enrol_member(group, _db.session.get(Member, created.json["id"]), {}, "test", NOW)
    start_cycle(group, {"first_date": date(2026, 12, 1)}, "test", NOW)
    _db.session.commit()
    session = GroupSession.query.filter_by(number=1).one()
    reminder = Message.query.filter_by(session_id=session.id, kind="reminder_24h").one()
    run_tick(RecordingSender(), reminder.due_at, dispatch_settings("test"))
    assert _db.session.get(Message, reminder.id).body == (
        "Olá João, lembrete de Wellbeing Groups: seu grupo se reúne amanhã, ter., 1 de dez., 18:00. "
        "Responda C para confirmar ou X se não puder vir."
    )
    assert "<Message>" not in reply(sms(client, "Pare!"))  # its opt-out keyword, for everyone
    assert Member.query.one().opted_out_at == NOW


def test_check_catalogues_passes_a_complete_file_and_names_what_a_broken_one_lacks(runner, tmp_path):
    good, broken = tmp_path / "pt-BR.toml", tmp_path / "fr.toml"
    good.write_text(portuguese_catalogue(), encoding="utf-8")
    text = EN_TOML.replace('ack = "Thanks', 'acknowledgement = "Thanks').replace(
        "{old_when} is cancelled.", "is cancelled."
    )
    broken.write_text(text.replace('locale = "en"', 'locale = "fr"'), encoding="utf-8")
    result = runner.invoke(args=["ipt", "check-catalogues", str(good)])
    assert result.exit_code == 0 and "pt-br (Português" in result.output and ": ok, 67 texts" in result.output
    result = runner.invoke(args=["ipt", "check-catalogues", str(good), str(broken)])
    assert result.exit_code == 1
    assert "[texts] ack is missing" in result.output
    assert "[texts] session_cancelled: missing placeholder {old_when}" in result.output
    assert "[texts] acknowledgement is not a text of en.toml" in result.output


def test_check_catalogues_checks_every_catalogue_in_force_by_default(runner):
    result = runner.invoke(args=["ipt", "check-catalogues"])
    assert result.exit_code == 0, result.output
    assert [line.split(" ")[0] for line in result.output.splitlines()] == ["en", "es"]


def test_carrier_keywords_lists_every_languages_opt_out_opt_in_and_help(runner):
    result = runner.invoke(args=["ipt", "carrier-keywords"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == (
        "Opt-out keywords: ALTO, BAJA, CANCEL, CANCELAR, END, NO MÁS, OPTOUT, PARAR, QUIT, REVOKE, STOP, "
        "STOPALL, UNSUBSCRIBE"
    )
    assert lines[1] == "Opt-in keywords: COMENZAR, REANUDAR, START, UNSTOP, YES"
    assert lines[2] == "Help keywords: AYUDA, HELP, INFO"


# --- no silent fallback to English -----------------------------------------------------------------------


def test_creating_or_changing_someone_into_a_language_without_a_catalogue_warns(client, auth, make_member):
    member = make_member(0)
    assert client.get(f"/api/v1/members/{member.id}", headers=auth).json["warnings"] == []
    changed = client.patch(f"/api/v1/members/{member.id}", json={"language": "so"}, headers=auth)
    assert changed.json["warnings"] == [
        "no catalogue for language 'so': texts go in English (catalogues: en, es)"
    ]
    facilitator = {
        "name": "Faisal",
        "phone": "+12025550177",
        "email": "faisal@example.org",
        "timezone": "America/Chicago",
        "languages": ["so", "en"],
    }
    made = client.post("/api/v1/facilitators", json=facilitator, headers=auth)
    assert made.status_code == 201 and made.json["language"] == "so" and "'so'" in made.json["warnings"][0]
    fixed = client.patch(f"/api/v1/facilitators/{made.json['id']}", json={"language": "en"}, headers=auth)
    assert fixed.json["warnings"] == [] and fixed.json["languages"] == ["so", "en"]
    coordinator = {"name": "Ama", "timezone": "UTC", "language": "tw"}
    assert "'tw'" in client.post("/api/v1/coordinators", json=coordinator, headers=auth).json["warnings"][0]


def test_a_filter_lists_who_gets_english_for_want_of_a_catalogue(client, auth, make_member, make_facilitator):
    ids = {
        lang: make_member(i, language=lang).id for i, lang in enumerate(["en", "es", "es-MX", "so", "pt-BR"])
    }
    listed = client.get("/api/v1/members?no_catalogue=true", headers=auth).json
    assert sorted(m["id"] for m in listed) == sorted([ids["so"], ids["pt-BR"]])
    others = client.get("/api/v1/members?no_catalogue=false", headers=auth).json
    assert sorted(m["id"] for m in others) == sorted([ids["en"], ids["es"], ids["es-MX"]])
    somali = make_facilitator(0, languages=["so"])
    make_facilitator(1)
    assert [f["id"] for f in client.get("/api/v1/facilitators?no_catalogue=true", headers=auth).json] == [
        somali.id
    ]


def test_an_import_warns_of_rows_whose_language_has_no_catalogue(client, auth):
    rows = [
        "name,phone,timezone,language,problem_area",
        "Ana,+13125550101,America/Chicago,es,grief",
        "Ali,+13125550102,America/Chicago,so,grief",
        "Asha,+13125550103,America/Chicago,so,grief",
    ]
    body = "\n".join(rows) + "\n"
    for dry_run in ("true", "false"):
        r = client.post(
            f"/api/v1/members/import?dry_run={dry_run}",
            data=body,
            headers={**auth, "Content-Type": "text/csv"},
        )
        assert r.status_code in (200, 201), r.json
        assert r.json["warnings"] == [
            "2 rows in 'so': no catalogue for language 'so': texts go in English (catalogues: en, es)"
        ]
