"""Waitlist import from CSV: all rows or none, errors by spreadsheet row, dry runs, and bad files."""

import csv
import io
from collections import Counter
from pathlib import Path

import pytest

from ipt_groups.models import AuditEntry, Member
from tests.conftest import NOW, count

URL = "/api/v1/members/import"
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "waitlist-example.csv"
BOUNDARY = "waitlist-boundary"
HEADER = "name,phone,timezone,language,problem_area,availability,sms_consent,sms_consent_source"


def sheet(*rows: str, header: str = HEADER) -> str:
    """A CSV with the header and one line per row, as Excel writes it (CRLF)."""
    return "\r\n".join((header, *rows)) + "\r\n"


def row(i: int = 0, **cells) -> str:
    """One valid data row for HEADER; phones differ by `i`; cells may be overridden by column."""
    values = {"name": f"Person {i}", "phone": f"(312) 555-{1000 + i:04d}", "timezone": "America/Chicago"}
    values |= {"language": "en", "problem_area": "grief", "availability": "mon 18:00-20:30; wed 09:00-12:00"}
    values |= {"sms_consent": "yes", "sms_consent_source": "intake call", **cells}
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(values[c] for c in HEADER.split(","))
    return out.getvalue()


def upload(client, auth, data: bytes | str, query: str = "", field: str = "file"):
    """POST the file as a multipart upload in form field `file` (the body built here, in memory)."""
    raw = data.encode() if isinstance(data, str) else data
    part = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="waitlist.csv"\r\n'
    body = (part + "Content-Type: text/csv\r\n\r\n").encode() + raw + f"\r\n--{BOUNDARY}--\r\n".encode()
    content_type = f"multipart/form-data; boundary={BOUNDARY}"
    return client.post(URL + query, data=body, headers=auth, content_type=content_type)


def test_the_example_file_imports_exactly(client, auth):
    r = upload(client, auth, EXAMPLE.read_bytes())
    assert r.status_code == 201, r.json
    with EXAMPLE.open(encoding="utf-8", newline="") as f:
        expected = list(csv.DictReader(f))
    assert (r.json["rows"], r.json["created"]) == (10, 10)
    assert [m["name"] for m in r.json["members"]] == [e["name"] for e in expected]
    assert {"Nguyen, Thi Lan", "José Ramírez", "Zoë Fischer"} <= {m.name for m in Member.query}
    areas = Counter(m.problem_area for m in Member.query)
    assert areas == {"grief": 3, "role_dispute": 2, "role_transition": 3, "interpersonal_deficits": 2}
    assert AuditEntry.query.filter_by(action="member.create").count() == 10


def test_the_example_files_cells_are_converted(client, auth):
    upload(client, auth, EXAMPLE.read_bytes())
    maria = Member.query.filter_by(name="Maria Gonzalez").one()
    assert (maria.phone, maria.language, maria.waitlisted_at.isoformat()) == (
        "+13125550142",
        "es",
        "2026-08-03T00:00:00+00:00",
    )
    assert [w["day"] for w in maria.availability] == ["mon", "wed"]
    darnell = Member.query.filter_by(name="Darnell Brooks").one()
    assert (darnell.sms_consent, darnell.sms_consent_at, darnell.sms_consent_source) == (False, None, None)
    assert Member.query.filter_by(name="Keisha Williams").one().age_band == "adolescent"
    assert '"would rather not do Sundays"' in Member.query.filter_by(name="Rahul Mehta").one().notes


def test_a_text_csv_body_works_too(client, auth):
    r = client.post(
        URL, data=sheet(row(0), row(1)), headers={**auth, "Content-Type": "text/csv; charset=utf-8"}
    )
    assert r.status_code == 201 and r.json["created"] == 2
    assert sorted(m.phone for m in Member.query) == ["+13125551000", "+13125551001"]


def test_a_dry_run_validates_and_writes_nothing(client, auth):
    audited = count(AuditEntry)
    r = upload(client, auth, sheet(row(0), row(1), row(2)), "?dry_run=true")
    assert r.status_code == 200, r.json
    assert (r.json["dry_run"], r.json["rows"], r.json["created"], r.json["members"]) == (True, 3, 0, [])
    assert count(Member) == 0 and count(AuditEntry) == audited


def test_a_dry_run_reports_the_same_errors(client, auth):
    r = upload(client, auth, sheet(row(0), row(1, timezone="Mars/Olympus")), "?dry_run=true")
    assert r.status_code == 422 and list(r.json["errors"]["json"]["rows"]) == ["3"]


def test_every_bad_row_is_named_by_spreadsheet_row_and_nothing_is_written(client, auth):
    rows = [
        row(0),
        row(1, phone="call me"),
        row(2, timezone="Mars/Olympus"),
        row(3, availability="mon 20:00-18:00"),
        row(4, problem_area="sadness"),
        row(5, sms_consent="maybe"),
        "",  # a blank spreadsheet row is skipped but still counted
        row(7, availability="funday 18:00-20:00"),
        row(8, availability="Monday evenings"),
    ]
    r = upload(client, auth, sheet(*rows))
    assert r.status_code == 422
    errors = r.json["errors"]["json"]["rows"]
    assert sorted(errors, key=int) == ["3", "4", "5", "6", "7", "9", "10"]
    assert "not a phone number" in errors["3"]["phone"][0]
    assert "not an IANA timezone" in errors["4"]["timezone"][0]
    assert "before it starts" in str(errors["5"]["availability"])
    assert "Must be one of" in errors["6"]["problem_area"][0]
    assert "not yes or no" in errors["7"]["sms_consent"][0]
    assert "not one of" in str(errors["9"]["availability"])
    assert "not a window like" in errors["10"]["availability"][0]
    assert r.json["message"] == "7 of 8 rows have errors; nothing was imported"
    assert count(Member) == 0


def test_a_cell_spanning_lines_is_one_row(client, auth):
    header = HEADER + ",notes"
    text = sheet(row(0) + ',"first line\nsecond line"', row(1, phone="12") + ",", header=header)
    r = upload(client, auth, text)
    assert list(r.json["errors"]["json"]["rows"]) == ["3"]


def test_waitlisted_at_must_be_a_date(client, auth):
    header = HEADER + ",waitlisted_at"
    r = upload(client, auth, sheet(row(0) + ",2026-08-03", row(1) + ",3rd of August", header=header))
    assert r.status_code == 422
    assert "is not a date" in r.json["errors"]["json"]["rows"]["3"]["waitlisted_at"][0]


def test_too_many_rows_are_refused(client, auth, monkeypatch):
    monkeypatch.setattr("ipt_groups.people.waitlist_sheet.MAX_ROWS", 2)
    r = upload(client, auth, sheet(row(0), row(1), row(2)))
    assert r.status_code == 422 and "at most 2 rows" in r.json["errors"]["json"]["file"][0]
    assert count(Member) == 0


def test_missing_required_cells_are_named(client, auth):
    r = upload(client, auth, sheet(row(0, name="", language="")))
    assert set(r.json["errors"]["json"]["rows"]["2"]) == {"name", "language"}


def test_duplicate_phones_within_the_file(client, auth):
    r = upload(client, auth, sheet(row(0), row(1), row(2, phone="+1 312 555 1000")))
    assert r.status_code == 422
    fix = "Fix: each person once; correct the number or remove the row"
    assert r.json["errors"]["json"]["rows"] == {"4": {"phone": [f"same phone as row 2 (Person 0). {fix}"]}}
    assert count(Member) == 0


def test_duplicate_phones_against_the_database_name_the_member(client, auth, make_member):
    known = make_member(1)
    r = upload(client, auth, sheet(row(0), row(1, name="Someone else"), row(2, timezone="Nowhere")))
    assert r.status_code == 422
    errors = r.json["errors"]["json"]["rows"]
    assert errors["3"]["phone"][0].startswith(
        f"a member with this phone already exists: Member 1 (member {known.id}). Fix: "
    )
    assert sorted(errors) == ["3", "4"]


def test_a_duplicate_phone_is_reported_with_the_rows_other_errors(client, auth, make_member):
    make_member(1)
    r = upload(client, auth, sheet(row(0), row(1, timezone="Nowhere"), row(2, phone="(312) 555-1000")))
    errors = r.json["errors"]["json"]["rows"]
    assert set(errors["3"]) == {"phone", "timezone"} and "already exists: Member 1" in errors["3"]["phone"][0]
    assert errors["4"]["phone"][0].startswith("same phone as row 2 (Person 0)")
    assert count(Member) == 1


@pytest.mark.parametrize(
    ("header", "key", "expected"),
    [
        ("name,phone,timezone,language", "missing_columns", ["problem_area"]),
        ("name,timezone,language,problem_area", "missing_columns", ["phone"]),
        (HEADER + ",shoe_size", "unknown_columns", ["'shoe_size' is not a column"]),
        (HEADER + ",phone", "duplicate_columns", ["'phone' appears more than once"]),
    ],
)
def test_header_problems_are_named(client, auth, header, key, expected):
    r = upload(client, auth, header + "\r\nx,y,z\r\n")
    assert r.status_code == 422
    got = r.json["errors"]["json"][key]
    assert all(any(e in g for g in got) for e in expected)
    assert count(Member) == 0


def test_header_case_and_spaces_are_forgiven(client, auth):
    header = "Name, Phone ,Timezone,Language,Problem Area,Availability,SMS Consent,SMS Consent Source"
    r = upload(client, auth, sheet(row(0), header=header))
    assert r.status_code == 201, r.json


def test_a_row_with_more_cells_than_the_header(client, auth):
    r = upload(client, auth, sheet(row(0), row(1) + ",surplus"))
    assert r.status_code == 422
    assert "9 cells, but the header names 8" in r.json["errors"]["json"]["rows"]["3"]["file"][0]


def test_a_header_with_no_rows(client, auth):
    r = upload(client, auth, sheet(",,,,,,,"))
    assert r.status_code == 422 and "no data rows" in r.json["errors"]["json"]["file"][0]


def test_excels_utf8_bom_is_ignored(client, auth):
    r = upload(client, auth, sheet(row(0, name="Zoë Fischer")).encode("utf-8-sig"))
    assert r.status_code == 201, r.json
    assert Member.query.one().name == "Zoë Fischer"


def test_a_file_that_is_not_csv_is_422(client, auth):
    r = upload(client, auth, sheet(row(0, name="x" * 200_000)))
    assert r.status_code == 422 and "cannot be read as CSV" in r.json["errors"]["json"]["file"][0]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)), "this is an Excel workbook, not CSV"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "this is an Excel workbook, not CSV"),
        (
            HEADER.encode() + b"\r\n\x00\x01\x02\x00\xff\xfe\x00\x00",
            "not text in an encoding we can recognise",
        ),
    ],
)
def test_a_workbook_or_binary_file_is_422_with_how_to_save_it(client, auth, data, says):
    r = upload(client, auth, data)
    assert r.status_code == 422 and says in r.json["errors"]["json"]["file"][0]
    assert "Save As > 'CSV UTF-8 (Comma delimited)'" in r.json["errors"]["json"]["file"][0]
    assert count(Member) == 0


@pytest.mark.parametrize("as_body", [False, True])
def test_oversized_upload_is_413(app, client, auth, as_body):
    big = sheet(*[row(0)] * (app.config["MAX_CONTENT_LENGTH"] // 80 + 1))
    if as_body:
        r = client.post(URL, data=big, headers={**auth, "Content-Type": "text/csv"})
    else:
        r = upload(client, auth, big)
    assert r.status_code == 413 and r.json["code"] == 413
    assert count(Member) == 0


def test_wrong_content_type_is_415(client, auth):
    r = client.post(URL, json={"file": sheet(row(0))}, headers=auth)
    assert r.status_code == 415
    assert "application/json" in r.json["errors"]["headers"]["Content-Type"][0]
    assert count(Member) == 0


def test_a_form_without_the_file_field_is_422(client, auth):
    r = upload(client, auth, sheet(row(0)), field="upload")
    assert r.status_code == 422 and "form field 'file'" in r.json["errors"]["json"]["file"][0]


@pytest.mark.parametrize(
    ("cell", "consent"),
    [("yes", True), ("Yes", True), ("y", True), ("no", False), ("NO", False), ("", False)],
)
def test_sms_consent_is_yes_or_no(client, auth, cell, consent):
    source = "intake call" if consent else ""
    r = upload(client, auth, sheet(row(0, sms_consent=cell, sms_consent_source=source)))
    assert r.status_code == 201, r.json
    assert r.json["members"][0]["sms_consent"] is consent


def test_consent_without_a_source_is_recorded_as_from_the_import(client, auth):
    r = upload(client, auth, sheet(row(0, sms_consent_source="")))
    assert r.status_code == 201, r.json
    member = Member.query.one()
    assert member.sms_consent and member.sms_consent_at == NOW
    assert member.sms_consent_source == "waitlist import 2026-11-25 (no source in the file)"


@pytest.mark.parametrize(
    ("cell", "windows"),
    [
        ("mon 18:00-20:30; wed 09:00-12:00", [("mon", "18:00", "20:30"), ("wed", "09:00", "12:00")]),
        ("Tuesday 9:00 - 12:00", [("tue", "09:00", "12:00")]),
        ("sat 10:00-24:00", [("sat", "10:00", "24:00")]),
        ("", []),
    ],
)
def test_availability_cells(client, auth, cell, windows):
    r = upload(client, auth, sheet(row(0, availability=cell)))
    assert r.status_code == 201, r.json
    assert [(w["day"], w["start"], w["end"]) for w in r.json["members"][0]["availability"]] == windows


def test_import_is_audited_as_the_coordinator(client, auth):
    upload(client, auth, sheet(row(0)))
    entry = AuditEntry.query.filter_by(action="member.create").one()
    assert entry.actor.startswith("coordinator:test coordinator") and entry.after["phone"] == "+13125551000"
