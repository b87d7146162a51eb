"""Members: create, list, filter, page, change, delete; bad input changes nothing."""

from datetime import datetime

import pytest

from ipt_groups.models import AuditEntry, Member
from tests.conftest import count, member_data

URL = "/api/v1/members"


def test_create_normalises_phone_and_stamps_consent(client, auth):
    r = client.post(URL, json=member_data(phone="(312) 555-1000"), headers=auth)
    assert r.status_code == 201, r.json
    assert r.json["phone"] == "+13125551000"
    assert r.json["status"] == "waitlisted"
    assert r.json["sms_consent_at"] == "2026-11-25T12:00:00+00:00"
    entry = AuditEntry.query.filter_by(action="member.create").one()
    assert entry.actor.startswith("coordinator:test coordinator") and entry.before is None
    assert entry.after["phone"] == "+13125551000"


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"phone": "12"}, "phone", "not a valid phone number"),
        ({"phone": "call me"}, "phone", "not a phone number"),
        ({"timezone": "Mars/Olympus"}, "timezone", "not an IANA timezone"),
        (
            {"availability": [{"day": "mon", "start": "20:00", "end": "18:00"}]},
            "availability",
            "before it starts",
        ),
        (
            {"availability": [{"day": "funday", "start": "18:00", "end": "20:00"}]},
            "availability",
            "is not one of",
        ),
        ({"availability": [{"day": "mon", "start": "25:00", "end": "26:00"}]}, "availability", "HH:MM"),
        ({"problem_area": "sadness"}, "problem_area", "Must be one of"),
        ({"age_band": "child"}, "age_band", "Must be one of"),
        ({"language": "English!"}, "language", "language tag"),
        ({"sms_consent_source": None}, "sms_consent_source", "where consent was given"),
        ({"waitlisted_at": "2026-01-01T00:00:00"}, "waitlisted_at", "aware"),
        ({"name": ""}, "name", "Length must be between 1 and 200"),
        ({"nickname": "x"}, "nickname", "Unknown field"),
    ],
)
def test_bad_member_fields_are_named_and_nothing_is_written(client, auth, overrides, field, reason):
    audited = count(AuditEntry)
    r = client.post(URL, json=member_data(**overrides), headers=auth)
    assert r.status_code == 422
    assert field in r.json["errors"]["json"]
    assert reason in str(r.json["errors"]["json"][field])
    assert count(Member) == 0 and count(AuditEntry) == audited


def test_missing_required_fields_are_each_named(client, auth):
    r = client.post(URL, json={}, headers=auth)
    assert r.status_code == 422
    assert set(r.json["errors"]["json"]) == {"name", "phone", "timezone", "language", "problem_area"}


def test_duplicate_phone_is_a_conflict_in_any_format_naming_who_has_it(client, auth, make_member):
    known = make_member(0)
    r = client.post(URL, json=member_data(1, phone="+1 312-555-1000"), headers=auth)
    assert r.status_code == 409
    assert r.json["errors"]["json"]["phone"] == [
        f"a member with this phone already exists: Member 0 (member {known.id})"
    ]
    assert count(Member) == 1


def test_wrong_content_type_is_415_naming_the_header(client, auth):
    r = client.post(URL, data="name=x", headers={**auth, "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415
    assert "Content-Type" in r.json["errors"]["headers"]
    assert count(Member) == 0


def test_malformed_json_is_400(client, auth):
    r = client.post(URL, data='{"name": ', headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 400
    assert "Invalid JSON" in str(r.json["errors"]["json"])
    assert count(Member) == 0


def test_oversized_body_is_413(app, client, auth):
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    r = client.post(URL, data=big, headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json["code"] == 413
    assert count(Member) == 0


def test_list_filters_and_pages_longest_waiting_first(client, auth, make_member):
    make_member(0, waitlisted_at=_at("2026-03-01"))
    make_member(1, waitlisted_at=_at("2026-01-01"), problem_area="role_dispute")
    make_member(2, waitlisted_at=_at("2026-02-01"), language="es")
    r = client.get(URL, headers=auth)
    assert [m["name"] for m in r.json] == ["Member 1", "Member 2", "Member 0"]
    assert [m["name"] for m in client.get(URL + "?language=es", headers=auth).json] == ["Member 2"]
    assert [m["name"] for m in client.get(URL + "?problem_area=role_dispute", headers=auth).json] == [
        "Member 1"
    ]
    page = client.get(URL + "?page=2&page_size=2", headers=auth)
    assert [m["name"] for m in page.json] == ["Member 0"]
    assert '"total": 3' in page.headers["X-Pagination"]


def test_list_filter_values_are_validated(client, auth):
    r = client.get(URL + "?status=asleep", headers=auth)
    assert r.status_code == 422 and "status" in r.json["errors"]["query"]


def test_patch_changes_only_given_fields_and_audits(client, auth, make_member):
    member = make_member(0)
    r = client.patch(f"{URL}/{member.id}", json={"language": "es", "status": "withdrawn"}, headers=auth)
    assert r.status_code == 200, r.json
    assert (r.json["language"], r.json["status"], r.json["problem_area"]) == ("es", "withdrawn", "grief")
    entry = AuditEntry.query.filter_by(action="member.update").one()
    assert entry.before["language"] == "en" and entry.after["language"] == "es"


def test_patch_with_bad_field_changes_nothing(client, auth, make_member):
    member = make_member(0)
    r = client.patch(f"{URL}/{member.id}", json={"language": "es", "timezone": "Nowhere/Else"}, headers=auth)
    assert r.status_code == 422 and "timezone" in r.json["errors"]["json"]
    assert client.get(f"{URL}/{member.id}", headers=auth).json["language"] == "en"


def test_patch_cannot_set_enrolled_directly(client, auth, make_member):
    member = make_member(0)
    r = client.patch(f"{URL}/{member.id}", json={"status": "enrolled"}, headers=auth)
    assert r.status_code == 422 and "status" in r.json["errors"]["json"]


def test_withdrawing_consent_is_stamped(client, auth, make_member, app):
    member = make_member(0)
    r = client.patch(f"{URL}/{member.id}", json={"sms_consent": False}, headers=auth)
    assert r.json["sms_consent"] is False and r.json["sms_consent_at"] == "2026-11-25T12:00:00+00:00"


def test_delete_and_unknown_ids(client, auth, make_member):
    member = make_member(0)
    assert client.delete(f"{URL}/{member.id}", headers=auth).status_code == 204
    assert client.get(f"{URL}/{member.id}", headers=auth).status_code == 404
    assert client.patch(f"{URL}/999", json={"name": "x"}, headers=auth).status_code == 404
    assert client.delete(f"{URL}/999", headers=auth).status_code == 404
    assert AuditEntry.query.filter_by(action="member.delete").one().before["phone"] == "+13125551000"


def _at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T09:00:00+00:00")
