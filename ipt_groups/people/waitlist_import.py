"""Waitlist import from a coordinator's spreadsheet (CSV): every row valid, or nothing written; every
error of every row reported at once, each with how to fix it."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import select

from ipt_groups.errors import InvalidInput
from ipt_groups.extensions import db
from ipt_groups.messaging.languages import language_warning
from ipt_groups.models import Member
from ipt_groups.people import waitlist_sheet as sheet
from ipt_groups.people.roster import create_member
from ipt_groups.people.schemas import MemberArgs
from ipt_groups.progress import Track, untracked


def consent_source(now: datetime) -> str:
    """What a consent with no source in the file is recorded as coming from."""
    return f"waitlist import {now:%Y-%m-%d} (no source in the file)"


def validate_rows(
    rows: list[tuple[int, dict]], errors: dict[str, dict], now: datetime, track: Track = untracked
) -> list[dict]:
    """Every row loaded through the member schema and checked against the file and the database;
    all errors at once (with `errors`, the rows that did not fit the header), keyed by spreadsheet row."""
    config = current_app.config
    formats = tuple(f for f in [config.get("IMPORT_DATE_FORMAT")] if f)
    hints = sheet.hints(config["DEFAULT_PHONE_REGION"], formats[0] if formats else "")
    loaded, phones = {}, {}
    for line, cells in track(rows, len(rows), "Checking rows"):
        data, problems = _load(cells, formats, consent_source(now))
        _merge(errors, line, {k: sheet.with_hint(v, hints.get(k)) for k, v in problems.items()})
        if "phone" in data:
            phones.setdefault(data["phone"], []).append((line, data.get("name", "")))
        if not problems:
            loaded[line] = data
    for line, problems in _duplicates(phones).items():
        _merge(errors, line, problems)
    if errors:
        message = f"{len(errors)} of {len(rows)} rows have errors; nothing was imported"
        raise InvalidInput(message, {"rows": dict(sorted(errors.items(), key=lambda kv: int(kv[0])))})
    return list(loaded.values())


def _load(cells: dict, formats: tuple[str, ...], source: str) -> tuple[dict, dict]:
    """The row's fields and its errors: cells that could not be read and what the schema refuses,
    together (the phone is kept when valid, to find duplicates in a row with other errors)."""
    fields, problems = sheet.row_fields(cells, formats, source)
    try:
        return MemberArgs().load(fields), problems
    except ValidationError as exc:
        return exc.valid_data or {}, {**exc.messages, **problems}


def _merge(errors: dict, line: int | str, problems: dict) -> None:
    for key, messages in problems.items():
        errors.setdefault(str(line), {}).setdefault(key, []).extend(messages)


def _duplicates(phones: dict[str, list[tuple[int, str]]]) -> dict[str, dict]:
    """A phone twice in the file, or already a member's: each such row, naming whom it collides with."""
    found: dict[str, dict] = {}
    fix = "Fix: each person once; correct the number or remove the row"
    for rows in phones.values():
        first, name = rows[0]
        for line, _ in rows[1:]:
            _merge(found, line, {"phone": [f"same phone as row {first} ({name}). {fix}"]})
    for member in db.session.scalars(select(Member).where(Member.phone.in_(list(phones)))):
        known = f"a member with this phone already exists: {member.name} (member {member.id}). {fix}"
        for line, _ in phones[member.phone]:
            _merge(found, line, {"phone": [known]})
    return found


def import_waitlist(
    raw: bytes, dry_run: bool, actor: str, now: datetime, track: Track = untracked
) -> tuple[list[dict], list[Member]]:
    """Read and validate the whole file, then (unless a dry run) add every row to the waitlist.

    Returns the valid rows (as member fields) and the members created (none on a dry run)."""
    rows = validate_rows(*sheet.read_rows(sheet.decode(raw)), now, track)
    if dry_run:
        return rows, []
    return rows, [create_member(row, actor, now) for row in track(rows, len(rows), "Adding members")]


def import_warnings(rows: list[dict]) -> list[str]:
    """One warning per language without a catalogue, with how many rows are in it."""
    counts = Counter(row["language"] for row in rows)
    return [
        f"{counts[language]} rows in {language!r}: {warning}"
        for language in sorted(counts)
        if (warning := language_warning(language))
    ]
