"""The pages' forms, read into the API's own input schemas wherever the API takes the same thing, so
a form is checked exactly as the equivalent API call would be."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate
from werkzeug.datastructures import MultiDict

from ipt_groups.api.fields import Phone
from ipt_groups.attendance.schemas import AttendanceArgs
from ipt_groups.cycles.schemas import SessionPatchArgs
from ipt_groups.formation.schemas import EditArgs, PolicyArgs


class PhoneForm(Schema):
    class Meta:
        unknown = EXCLUDE

    phone = Phone(required=True, metadata={"description": "the phone the code is texted to"})


class CodeForm(Schema):
    class Meta:
        unknown = EXCLUDE

    code = fields.Str(required=True, validate=validate.Regexp(r"^\s*\d{6}\s*$", error="type the 6 digits"))


def _int_or_text(value: str | None):
    text = (value or "").strip()
    return int(text) if text.isdigit() else text


def attendance(form: MultiDict) -> dict:
    """One member's mark, as the API's attendance body."""
    record = {"member_id": _int_or_text(form.get("member_id")), "status": form.get("status", "")}
    return AttendanceArgs().load({"records": [record]})


def session_move(form: MultiDict) -> dict:
    """A new local date and start for a session, as the API's PATCH body."""
    return SessionPatchArgs().load(
        {"local_date": form.get("local_date", ""), "local_start": form.get("local_start", "")}
    )


def session_cancel(form: MultiDict) -> dict:
    """A cancellation, optionally shifting the rest of the cycle, as the API's PATCH body."""
    body = {"status": "cancelled", "shift": form.get("shift") == "yes"}
    if form.get("reason", "").strip():
        body["reason"] = form["reason"].strip()
    return SessionPatchArgs().load(body)


def proposal_move(form: MultiDict) -> dict:
    """Move a member to a group (an index) or out of the proposal (empty), as the API's edit."""
    target = (form.get("to_group") or "").strip()
    change = {"op": "move_member", "member_id": _int_or_text(form.get("member_id"))}
    return EditArgs().load({**change, "to_group": _int_or_text(target) if target else None})


POLICY_NUMBERS = ("weeks", "min_size", "max_size", "session_minutes")


def policy(form: MultiDict) -> dict:
    """A formation policy from the console's form, as the API's `policy`."""
    body = {"first_session_date": form.get("first_session_date", "")}
    body |= {key: _int_or_text(form[key]) for key in POLICY_NUMBERS if form.get(key, "").strip()}
    body["mix_problem_areas"] = form.get("mix_problem_areas") == "yes"
    if form.get("single_gender") == "yes":
        body["match_on"] = ["problem_area", "language", "age_band", "gender"]
    if form.get("time_limit_s", "").strip():
        body["time_limit_s"] = _float_or_text(form["time_limit_s"])
    loaded = PolicyArgs().load(body)
    return {**loaded, "first_session_date": loaded["first_session_date"].isoformat()}


def _float_or_text(value: str):
    try:
        return float(value)
    except ValueError:
        return value
