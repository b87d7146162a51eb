"""The import forgives what spreadsheets do, each case with a real file written as Excel or
LibreOffice writes it: Windows-1252, UTF-16 ("Unicode text"), semicolons, tabs, US dates, "Family,
Given" names, a preferred name in every greeting, and every error of a row at once with its fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from ipt_groups.messaging.content import compose
from ipt_groups.messaging.recipients import resolve_recipient
from ipt_groups.models import Member, Message
from ipt_groups.worker import dispatch_settings
from tests.conftest import count
from tests.people.test_import import upload

COLUMNS = "name,preferred_name,phone,timezone,language,problem_area,availability,sms_consent,waitlisted_at"
ROWS = [
    [
        "José Ramírez",
        "",
        "312-555-0117",
        "America/Chicago",
        "es",
        "role_dispute",
        "tue 17:30-21:00",
        "yes",
        "2026-08-11",
    ],
    [
        "María Núñez",
        "",
        "(312) 555-0142",
        "America/Chicago",
        "es",
        "grief",
        "mon 18:00-20:30; wed 18:00-20:30",
        "sí",
        "10/03/2026",
    ],
    [
        "Nguyen, Thi Lan",
        "Lan",
        "+1 773 555 0188",
        "America/Chicago",
        "en",
        "role_transition",
        "sat 09:00-13:00",
        "y",
        "8/19/2026",
    ],
    [
        "Zoë Fischer",
        "",
        "+1 (646) 555-0172",
        "America/New_York",
        "en",
        "role_transition",
        "tue 19:00-21:00",
        "no",
        "",
    ],
]


def write_sheet(path: Path, rows, *, delimiter=",", encoding="utf-8", columns=COLUMNS) -> bytes:
    """Write a real file as a spreadsheet saves it (CRLF; cells holding the delimiter quoted)."""

    def cell(value: str) -> str:
        return f'"{value}"' if delimiter in value or "," in value or '"' in value else value

    lines = [columns.replace(",", delimiter)] + [delimiter.join(cell(v) for v in r) for r in rows]
    with path.open("w", encoding=encoding, newline="") as f:
        f.write("\r\n".join(lines) + "\r\n")
    return path.read_bytes()


def members() -> dict[str, Member]:
    return {m.name: m for m in Member.query}


@pytest.mark.parametrize(
    ("delimiter", "encoding", "first_bytes"),
    [
        (",", "cp1252", b"name,"),  # Excel's "CSV (Comma delimited)" on Windows, Americas and Europe
        (";", "cp1252", b"name;"),  # the same where the list separator is a semicolon (much of Europe)
        (";", "utf-8-sig", b"\xef\xbb\xbfname;"),  # Excel's "CSV UTF-8", semicolons
        ("\t", "utf-16", b"\xff\xfen\x00"),  # Excel's "Unicode text": UTF-16 with a BOM, tabs
        ("\t", "utf-8", b"name\t"),  # LibreOffice, tab-separated
    ],
)
def test_spreadsheet_encodings_and_delimiters_are_read(
    client, auth, tmp_path, delimiter, encoding, first_bytes
):
    raw = write_sheet(tmp_path / "waitlist.csv", ROWS, delimiter=delimiter, encoding=encoding)
    assert raw.startswith(first_bytes)
    r = upload(client, auth, raw)
    assert r.status_code == 201, r.json
    found = members()
    assert set(found) == {"José Ramírez", "María Núñez", "Nguyen, Thi Lan", "Zoë Fischer"}
    assert [w["day"] for w in found["María Núñez"].availability] == ["mon", "wed"]
    assert found["Nguyen, Thi Lan"].phone == "+17735550188"


def test_a_cp1252_file_with_only_a_few_accents_is_not_read_as_another_code_page(client, auth, tmp_path):
    rows = [["Iñaki Peña", "", "312-555-0101", "America/Chicago", "es", "grief", "", "no", ""]]
    r = upload(client, auth, write_sheet(tmp_path / "w.csv", rows, encoding="cp1252"))
    assert r.status_code == 201, r.json
    assert Member.query.one().name == "Iñaki Peña"


def test_a_file_in_another_code_page_keeps_its_letters(client, auth, tmp_path):
    rows = [
        ["Łukasz Wąsowicz", "", "+48 512 345 678", "Europe/Warsaw", "pl", "grief", "", "no", ""],
        ["Zofia Łęcka", "Zosia", "+48 512 345 679", "Europe/Warsaw", "pl", "grief", "", "no", ""],
    ]
    r = upload(client, auth, write_sheet(tmp_path / "w.csv", rows, encoding="cp1250"))
    assert r.status_code == 201, r.json
    assert set(members()) == {"Łukasz Wąsowicz", "Zofia Łęcka"}


@pytest.mark.parametrize(
    ("date_format", "expected"),
    [
        ("%m/%d/%Y", {"María Núñez": "2026-10-03", "Nguyen, Thi Lan": "2026-08-19"}),
        ("%d/%m/%Y", {"María Núñez": "2026-03-10"}),
    ],
)
def test_dates_in_iso_or_the_configured_local_format(
    app, client, auth, tmp_path, monkeypatch, date_format, expected
):
    monkeypatch.setitem(app.config, "IMPORT_DATE_FORMAT", date_format)
    rows = [r for r in ROWS if r[0] in expected or r[8].startswith("2026-")]
    r = upload(client, auth, write_sheet(tmp_path / "w.csv", rows))
    assert r.status_code == 201, r.json
    found = members()
    assert {name: found[name].waitlisted_at.date().isoformat() for name in expected} == expected
    assert found["José Ramírez"].waitlisted_at.date().isoformat() == "2026-08-11"


def test_a_date_in_neither_format_says_which_it_reads(app, client, auth, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_DATE_FORMAT", "%d/%m/%Y")
    rows = [[*ROWS[0][:7], "yes", "10/31/2026"]]
    r = upload(client, auth, write_sheet(tmp_path / "w.csv", rows))
    assert r.json["errors"]["json"]["rows"]["2"]["waitlisted_at"] == [
        "'10/31/2026' is not a date. Fix: a date such as 2026-09-14 or 14/09/2026"
    ]


def test_every_error_of_a_row_is_reported_at_once_each_with_its_fix(client, auth, tmp_path):
    bad = ["Nguyen,", "", "call me", "Chicago", "Spanish", "sadness", "Monday evenings", "maybe", "someday"]
    rows = [ROWS[0], bad, [*ROWS[1][:2], "312-555-0117", *ROWS[1][3:]]]
    r = upload(client, auth, write_sheet(tmp_path / "w.csv", rows))
    assert r.status_code == 422
    assert r.json["message"] == "2 of 3 rows have errors; nothing was imported"
    errors = r.json["errors"]["json"]["rows"]
    assert set(errors["3"]) == {
        "name",
        "phone",
        "timezone",
        "language",
        "problem_area",
        "availability",
        "sms_consent",
        "waitlisted_at",
    }
    assert all(len(m) == 1 and ". Fix: " in m[0] for m in errors["3"].values()), errors["3"]
    assert "not both a family name and a given name" in errors["3"]["name"][0]
    assert errors["3"]["problem_area"][0].endswith(
        "Fix: grief, role_dispute, role_transition or interpersonal_deficits"
    )
    assert errors["3"]["phone"][0].endswith(
        "Fix: write it with its country code (+52 55 1234 5678), or as a US number"
    )
    assert errors["4"]["phone"][0].startswith("same phone as row 2 (José Ramírez)")
    assert count(Member) == 0


def test_rows_that_do_not_fit_the_header_are_reported_with_the_other_rows_errors(client, auth, tmp_path):
    rows = [[*ROWS[0], "surplus"], [*ROWS[1][:3], "Nowhere", *ROWS[1][4:]]]
    errors = upload(client, auth, write_sheet(tmp_path / "w.csv", rows)).json["errors"]["json"]["rows"]
    assert errors["2"]["file"] == [
        "10 cells, but the header names 9 columns. Fix: put a cell holding a delimiter in quotes"
    ]
    assert "not an IANA timezone" in errors["3"]["timezone"][0]


def test_an_unknown_column_suggests_the_one_meant(client, auth, tmp_path):
    columns = COLUMNS.replace("preferred_name", "prefered name")
    r = upload(client, auth, write_sheet(tmp_path / "w.csv", ROWS, columns=columns))
    assert r.json["errors"]["json"]["unknown_columns"] == [
        "'prefered_name' is not a column. Fix: did you mean 'preferred_name'?"
    ]


def greeting(member: Member) -> str:
    """The start of the member's first reminder, as it would be sent."""
    message = (
        Message.query.filter_by(member_id=member.id, kind="reminder_24h").order_by(Message.due_at).first()
    )
    return compose(message, resolve_recipient(message), dispatch_settings("test")).split(",")[0]


def test_greetings_use_the_preferred_name_else_the_given_name(client, auth, tmp_path, started_group):
    def person(name: str, preferred: str, phone: str) -> list[str]:
        return [name, preferred, phone, "America/Chicago", "en", "grief", "tue 17:00-21:00", "yes", ""]

    rows = [
        person("Nguyen, Thi Lan", "Lan", "+1 773 555 0188"),
        person("Nguyen, Van Minh", "", "+1 773 555 0190"),
        person("José Ramírez", "", "312-555-0117"),
    ]
    assert upload(client, auth, write_sheet(tmp_path / "w.csv", rows)).status_code == 201
    found = members()
    started_group(list(found.values()))
    assert greeting(found["Nguyen, Thi Lan"]) == "Hi Lan"  # preferred_name
    assert greeting(found["Nguyen, Van Minh"]) == "Hi Van Minh"  # "Family, Given"
    assert greeting(found["José Ramírez"]) == "Hi José"
    body = client.get(f"/api/v1/members/{found['Nguyen, Thi Lan'].id}", headers=auth).json
    assert (body["name"], body["preferred_name"]) == ("Nguyen, Thi Lan", "Lan")
