"""Waitlist import from a coordinator's spreadsheet (CSV): every row valid, or nothing written."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, date, datetime

from marshmallow import ValidationError
from sqlalchemy import select

from ipt_groups.errors import InvalidInput
from ipt_groups.extensions import db
from ipt_groups.messaging.languages import language_warning
from ipt_groups.models import Member
from ipt_groups.people.availability import parse_sheet_availability
from ipt_groups.people.roster import create_member
from ipt_groups.people.schemas import MemberArgs

REQUIRED_COLUMNS = ("name", "phone", "timezone", "language", "problem_area")
OPTIONAL_COLUMNS = (
    "gender",
    "age_band",
    "availability",
    "sms_consent",
    "sms_consent_source",
    "waitlisted_at",
    "notes",
)
MAX_ROWS = 5000
_TRUE = {"yes", "y", "true", "1", "x"}
_FALSE = {"no", "n", "false", "0", ""}


def decode_csv(raw: bytes) -> str:
    """An uploaded file's text: UTF-8 with no NUL (a spreadsheet saved as such is refused, named)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("not UTF-8", {"file": [f"the file is not UTF-8 text (byte {exc.start})"]}) from exc
    if "\x00" in text:
        raise InvalidInput("not text", {"file": ["the file holds NUL characters; is it a spreadsheet?"]})
    return text


def read_rows(text: str) -> list[tuple[int, dict]]:
    """(spreadsheet row number, cells by normalised column) for each non-blank row; bad headers raise."""
    try:
        records = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    except csv.Error as exc:
        raise InvalidInput("not a CSV file", {"file": [f"cannot be read as CSV: {exc}"]}) from exc
    header = [_column(h) for h in (records[0] if records else [])]
    _check_header(header)
    rows, errors = [], {}
    # csv.reader yields [] for a blank line, so enumerate counts spreadsheet rows (row 1 is the header).
    for line, cells in enumerate(records[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            errors[str(line)] = {"file": [f"{len(cells)} cells, but the header names {len(header)} columns"]}
        rows.append((line, dict(zip(header, cells, strict=False))))
    if errors:
        raise InvalidInput(
            f"{len(errors)} rows do not fit the header; nothing was imported", {"rows": errors}
        )
    if not rows:
        raise InvalidInput("the file has no rows", {"file": ["no data rows under the header"]})
    if len(rows) > MAX_ROWS:
        raise InvalidInput("too many rows", {"file": [f"at most {MAX_ROWS} rows per import"]})
    return rows


def _check_header(header: list[str]) -> None:
    unknown = sorted(set(header) - set(REQUIRED_COLUMNS) - set(OPTIONAL_COLUMNS))
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    twice = sorted({c for c in header if header.count(c) > 1})
    if unknown or missing or twice:
        raise InvalidInput("the header row is not a waitlist", _header_errors(unknown, missing, twice))


def _column(name: str | None) -> str:
    return (name or "").strip().lower().replace(" ", "_")


def _header_errors(unknown: list[str], missing: list[str], twice: list[str]) -> dict:
    errors = {}
    if twice:
        errors["duplicate_columns"] = [f"{c!r} appears more than once" for c in twice]
    if missing:
        errors["missing_columns"] = missing
    if unknown:
        allowed = ", ".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
        errors["unknown_columns"] = [f"{c!r} is not a column (allowed: {allowed})" for c in unknown]
    return errors


def _row_to_args(row: dict) -> dict:
    """Spreadsheet cells to the API's member fields; cell errors raise ValidationError."""
    data = {k: (v or "").strip() for k, v in row.items() if k is not None and k in MemberArgs().fields}
    errors = {}
    for key, convert in (
        ("availability", parse_sheet_availability),
        ("sms_consent", _yes_no),
        ("waitlisted_at", _when),
    ):
        if key in data:
            try:
                data[key] = convert(data[key])
            except ValueError as exc:
                errors[key] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    return {k: v for k, v in data.items() if v not in ("", None) or k == "sms_consent"}


def _yes_no(text: str) -> bool:
    if text.lower() in _TRUE | _FALSE:
        return text.lower() in _TRUE
    raise ValueError(f"{text!r} is not yes or no")


def _when(text: str) -> str | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text) if "T" in text or " " in text else date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD) or date and time") from exc
    if isinstance(when, datetime):
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).isoformat()
    return datetime(when.year, when.month, when.day, tzinfo=UTC).isoformat()


def validate_rows(rows: list[tuple[int, dict]]) -> list[dict]:
    """Every row loaded through the member schema and checked against the file and the database;
    all errors at once, keyed by spreadsheet row."""
    loaded, errors, seen = {}, {}, {}
    for line, row in rows:
        try:
            loaded[line] = MemberArgs().load(_row_to_args(row))
        except ValidationError as exc:
            errors[str(line)] = exc.messages
    for line, data in loaded.items():
        if (first := seen.setdefault(data["phone"], line)) != line:
            errors[str(line)] = {"phone": [f"same phone as row {first}"]}
    known = _known_phones(seen)
    for line in (seen[phone] for phone in known):
        errors[str(line)] = {"phone": ["a member with this phone already exists"]}
    if errors:
        raise InvalidInput(
            f"{len(errors)} of {len(rows)} rows have errors; nothing was imported", {"rows": errors}
        )
    return list(loaded.values())


def _known_phones(phones) -> set[str]:
    return set(db.session.scalars(select(Member.phone).where(Member.phone.in_(list(phones)))))


def import_waitlist(text: str, dry_run: bool, actor: str, now: datetime) -> tuple[list[dict], list[Member]]:
    """Validate the whole file, then (unless a dry run) add every row to the waitlist.

    Returns the valid rows (as member fields) and the members created (none on a dry run)."""
    rows = validate_rows(read_rows(text))
    return rows, [] if dry_run else [create_member(row, actor, now) for row in rows]


def import_warnings(rows: list[dict]) -> list[str]:
    """One warning per language without a catalogue, with how many rows are in it."""
    counts = Counter(row["language"] for row in rows)
    return [
        f"{counts[language]} rows in {language!r}: {warning}"
        for language in sorted(counts)
        if (warning := language_warning(language))
    ]
