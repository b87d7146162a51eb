"""Reading a coordinator's waitlist spreadsheet (pure): the bytes Excel and LibreOffice write (UTF-8
with or without BOM, UTF-16, Windows-1252), comma, semicolon or tab between cells, dates in ISO or the
programme's local format, and a hint for every mistake, every row's at once."""

from __future__ import annotations

import codecs
import csv
import difflib
import io
from datetime import UTC, date, datetime

from charset_normalizer import from_bytes

from ipt_groups.errors import InvalidInput
from ipt_groups.people.availability import parse_sheet_availability

REQUIRED_COLUMNS = ("name", "phone", "timezone", "language", "problem_area")
OPTIONAL_COLUMNS = (
    "preferred_name",
    "gender",
    "age_band",
    "availability",
    "sms_consent",
    "sms_consent_source",
    "waitlisted_at",
    "notes",
)
MAX_ROWS = 5000
DELIMITERS = (",", ";", "\t")
_TRUE = {"yes", "y", "true", "1", "x", "sí", "si"}
_FALSE = {"no", "n", "false", "0", ""}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_WORKBOOKS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # .xlsx (a zip) and .xls (an OLE file)
SAVE_AS_CSV = "in Excel, File > Save As > 'CSV UTF-8 (Comma delimited)'"


def hints(region: str, date_format: str) -> dict[str, str]:
    """How to fix each column's cell, for the programme's phone region and date format."""
    local_date = f" or {date(2026, 9, 14).strftime(date_format)}" if date_format else ""
    return {
        "name": "write the member's name, as 'Thi Lan Nguyen' or 'Nguyen, Thi Lan'",
        "preferred_name": "the name texts greet them by, such as Lan (empty: their given name)",
        "phone": f"write it with its country code (+52 55 1234 5678), or as a {region} number",
        "timezone": "an IANA timezone such as America/Chicago or America/New_York",
        "language": "a language tag such as en, es or pt-BR",
        "problem_area": "grief, role_dispute, role_transition or interpersonal_deficits",
        "gender": "at most 32 characters, such as female, male or nonbinary",
        "age_band": "adult or adolescent (empty: adult)",
        "availability": "days and hours in the member's time, like 'mon 18:00-20:30; wed 09:00-12:00'",
        "sms_consent": "yes or no (y, sí, x or 1 also mean yes; empty means no)",
        "sms_consent_source": "where consent was given, such as 'intake call' (at most 200 characters)",
        "waitlisted_at": f"a date such as 2026-09-14{local_date}",
        "notes": "at most 2000 characters",
    }


def with_hint(messages: list | dict, hint: str | None) -> list[str]:
    """Each message followed by how to fix it; messages by item (availability's windows) are named."""
    return [f"{m.rstrip('.')}. Fix: {hint}" if hint else m for m in _flat(messages)]


def _flat(messages: list | dict) -> list[str]:
    if isinstance(messages, dict):
        return [f"{m} (window {int(k) + 1})" for k, v in messages.items() for m in _flat(v)]
    return [str(m) for m in messages]


# --- the file ------------------------------------------------------------------------------------


def decode(raw: bytes) -> str:
    """The file's text, whatever encoding a spreadsheet saved it in; a workbook or binary is refused."""
    if raw.startswith(_WORKBOOKS):
        raise InvalidInput("not a CSV file", {"file": [f"this is an Excel workbook, not CSV: {SAVE_AS_CSV}"]})
    encoding = next((name for bom, name in _BOMS if raw.startswith(bom)), None) or _guess_encoding(raw)
    text = raw.decode(encoding) if encoding else None
    if text is None or "\x00" in text:
        problem = "the file is not text in an encoding we can recognise"
        raise InvalidInput("not a text file", {"file": [f"{problem}: {SAVE_AS_CSV}"]})
    return text


def _guess_encoding(raw: bytes) -> str | None:
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    matches = from_bytes(raw)
    best = matches.best()
    if best is None:
        return None
    # Where several code pages read the file equally well, Excel's "CSV (Comma delimited)" is the likely
    # writer: Windows-1252, in the Americas and Western Europe.
    tied = [m for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    return next((m.encoding for m in tied if "cp1252" in m.could_be_from_charset), best.encoding)


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the header row into the most known column names (comma on a tie)."""
    first = next(iter(text.splitlines()), "")

    def known(delimiter: str) -> int:
        cells = next(csv.reader([first], delimiter=delimiter), [])
        return sum(_column(c) in REQUIRED_COLUMNS + OPTIONAL_COLUMNS for c in cells)

    return max(DELIMITERS, key=known)


def read_rows(text: str) -> tuple[list[tuple[int, dict]], dict[str, dict]]:
    """(spreadsheet row number, cells by column) for each non-blank row, and the rows whose cells
    do not fit the header; a file that is not a waitlist raises."""
    try:
        records = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=sniff_delimiter(text)))
    except csv.Error as exc:
        raise InvalidInput("not a CSV file", {"file": [f"cannot be read as CSV: {exc}"]}) from exc
    header = [_column(h) for h in (records[0] if records else [])]
    check_header(header)
    rows, errors = [], {}
    # csv.reader yields [] for a blank line, so enumerate counts spreadsheet rows (row 1 is the header).
    for line, cells in enumerate(records[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            problem = f"{len(cells)} cells, but the header names {len(header)} columns"
            errors[str(line)] = {"file": [f"{problem}. Fix: put a cell holding a delimiter in quotes"]}
        rows.append((line, dict(zip(header, cells, strict=False))))
    if not rows:
        raise InvalidInput("the file has no rows", {"file": ["no data rows under the header"]})
    if len(rows) > MAX_ROWS:
        raise InvalidInput("too many rows", {"file": [f"at most {MAX_ROWS} rows per import: split the file"]})
    return rows, errors


def _column(name: str | None) -> str:
    return "_".join((name or "").strip().lower().replace("_", " ").split())


def check_header(header: list[str]) -> None:
    """A header names every required column, no unknown one, none twice; each problem with its fix."""
    known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    errors = {}
    if twice := sorted({c for c in header if header.count(c) > 1}):
        errors["duplicate_columns"] = [f"{c!r} appears more than once. Fix: keep one" for c in twice]
    if missing := [c for c in REQUIRED_COLUMNS if c not in header]:
        errors["missing_columns"] = missing
    if unknown := sorted(set(header) - set(known)):
        errors["unknown_columns"] = [
            f"{c!r} is not a column. Fix: {_did_you_mean(c, known)}" for c in unknown
        ]
    if errors:
        raise InvalidInput("the header row is not a waitlist", errors)


def _did_you_mean(column: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(column, known, n=1)
    allowed = ", ".join(known)
    return f"did you mean {close[0]!r}?" if close else f"rename or remove it (columns: {allowed})"


# --- cells ---------------------------------------------------------------------------------------


def row_fields(cells: dict, date_formats: tuple[str, ...], consent_source: str) -> tuple[dict, dict]:
    """A row's cells as the API's member fields, and the cells that could not be read (by column).

    A yes to consent with no source records `consent_source` (the import says where it came from)."""
    data = {k: (v or "").strip() for k, v in cells.items() if k in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}
    errors = {}
    for key, convert in (
        ("name", check_name),
        ("availability", parse_sheet_availability),
        ("sms_consent", yes_no),
        ("waitlisted_at", lambda text: when(text, date_formats)),
    ):
        if key in data and (data[key] or key == "sms_consent"):
            try:
                data[key] = convert(data[key])
            except ValueError as exc:
                errors[key] = [str(exc)]
                del data[key]
    if data.get("sms_consent") and not data.get("sms_consent_source"):
        data["sms_consent_source"] = consent_source
    return {k: v for k, v in data.items() if v not in ("", None) or k == "sms_consent"}, errors


def check_name(text: str) -> str:
    """A name as written; a "Family, Given" name needs both parts."""
    family, comma, given = text.partition(",")
    if comma and not (family.strip() and given.strip()):
        raise ValueError(f"{text!r} has a comma but not both a family name and a given name")
    return " ".join(text.split())


def yes_no(text: str) -> bool:
    """A yes-or-no cell (empty is no)."""
    if text.lower() in _TRUE | _FALSE:
        return text.lower() in _TRUE
    raise ValueError(f"{text!r} is not yes or no")


def when(text: str, formats: tuple[str, ...] = ()) -> str:
    """A date (midnight UTC) or date and time, in ISO or one of `formats`, as ISO 8601."""
    try:
        return _aware(
            datetime.fromisoformat(text) if "T" in text or " " in text else date.fromisoformat(text)
        )
    except ValueError:
        pass
    for fmt in formats:
        try:
            return _aware(datetime.strptime(text, fmt))  # noqa: DTZ007 (a date; made UTC below)
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date")


def _aware(when: date) -> str:
    if isinstance(when, datetime):
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).isoformat()
    return datetime(when.year, when.month, when.day, tzinfo=UTC).isoformat()
