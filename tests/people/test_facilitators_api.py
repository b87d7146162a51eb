"""Facilitators: create, list, change, delete (refused while leading a group); bad input changes nothing."""

import pytest

from ipt_groups.auth import authenticate
from ipt_groups.groups.operations import create_group
from ipt_groups.models import ApiToken, AuditEntry, Facilitator
from tests.conftest import NOW, count, facilitator_data

URL = "/api/v1/facilitators"


def _lead_group(db, facilitator, **overrides):
    data = {"name": "Tuesday grief", "problem_area": "grief", "language": "en", "day": "tue"}
    data |= {"start_time": "18:00", "session_minutes": 90, "max_size": 10, "facilitator_id": facilitator.id}
    data |= overrides
    group = create_group(data, "test", NOW)
    db.session.commit()
    return group


def test_create_normalises_phone_and_audits(client, auth):
    r = client.post(URL, json=facilitator_data(phone="202-555-0100"), headers=auth)
    assert r.status_code == 201, r.json
    assert (r.json["phone"], r.json["languages"], r.json["max_groups"]) == ("+12025550100", ["en", "es"], 2)
    entry = AuditEntry.query.filter_by(action="facilitator.create").one()
    assert entry.actor.startswith("coordinator:test coordinator") and entry.before is None
    assert entry.after["email"] == "f0@example.org" and entry.entity_id == str(r.json["id"])


def test_defaults_any_problem_area_and_no_availability(client, auth):
    data = facilitator_data()
    del data["problem_areas"], data["availability"], data["max_groups"]
    r = client.post(URL, json=data, headers=auth)
    assert (r.json["problem_areas"], r.json["availability"], r.json["max_groups"]) == ([], [], 2)


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"phone": "12"}, "phone", "not a valid phone number"),
        ({"phone": "ring me"}, "phone", "not a phone number"),
        ({"timezone": "Mars/Olympus"}, "timezone", "not an IANA timezone"),
        (
            {"availability": [{"day": "wed", "start": "20:00", "end": "18:00"}]},
            "availability",
            "before it starts",
        ),
        (
            {"availability": [{"day": "someday", "start": "18:00", "end": "20:00"}]},
            "availability",
            "not one of",
        ),
        ({"problem_areas": ["grief", "sadness"]}, "problem_areas", "Must be one of"),
        ({"languages": []}, "languages", "Shorter than minimum length 1"),
        ({"languages": ["English!"]}, "languages", "language tag"),
        ({"email": "not-an-email"}, "email", "Not a valid email"),
        ({"max_groups": 0}, "max_groups", "greater than or equal to 1"),
        ({"name": ""}, "name", "Length must be between 1 and 200"),
        ({"pager": "x"}, "pager", "Unknown field"),
    ],
)
def test_bad_fields_are_named_and_nothing_is_written(client, auth, overrides, field, reason):
    audited = count(AuditEntry)
    r = client.post(URL, json=facilitator_data(**overrides), headers=auth)
    assert r.status_code == 422
    assert reason in str(r.json["errors"]["json"][field])
    assert count(Facilitator) == 0 and count(AuditEntry) == audited


def test_availability_errors_name_the_window(client, auth):
    windows = [
        {"day": "mon", "start": "09:00", "end": "10:00"},
        {"day": "mon", "start": "11:00", "end": "10:00"},
    ]
    r = client.post(URL, json=facilitator_data(availability=windows), headers=auth)
    assert list(r.json["errors"]["json"]["availability"]) == ["1"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("phone", "+1 (202) 555-0100"), ("email", "f0@example.org"), ("email", "F0@Example.ORG")],
)
def test_duplicate_phone_or_email_is_a_conflict(client, auth, make_facilitator, field, value):
    make_facilitator(0)
    r = client.post(URL, json=facilitator_data(1, **{field: value}), headers=auth)
    assert r.status_code == 409
    assert "already exists" in r.json["errors"]["json"][field][0]
    assert count(Facilitator) == 1


def test_wrong_content_type_is_415(client, auth):
    r = client.post(URL, data="name=x", headers={**auth, "Content-Type": "text/plain"})
    assert r.status_code == 415
    assert "text/plain" in r.json["errors"]["headers"]["Content-Type"][0]
    assert count(Facilitator) == 0


def test_malformed_json_is_400(client, auth):
    r = client.post(URL, data='{"name": "Dana",', headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 400 and "Invalid JSON" in str(r.json["errors"]["json"])
    assert count(Facilitator) == 0


def test_oversized_body_is_413(app, client, auth):
    big = '{"name": "' + "x" * app.config["MAX_CONTENT_LENGTH"] + '"}'
    r = client.post(URL, data=big, headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 413 and r.json["code"] == 413
    assert count(Facilitator) == 0


def test_list_pages_in_id_order(client, auth, make_facilitator):
    ids = [make_facilitator(i).id for i in range(3)]
    assert [f["id"] for f in client.get(URL, headers=auth).json] == ids
    page = client.get(URL + "?page=2&page_size=2", headers=auth)
    assert [f["id"] for f in page.json] == ids[2:]
    assert '"total": 3' in page.headers["X-Pagination"]


def test_get_one_and_unknown(client, auth, make_facilitator):
    facilitator = make_facilitator(0)
    assert client.get(f"{URL}/{facilitator.id}", headers=auth).json["name"] == "Facilitator 0"
    r = client.get(f"{URL}/999", headers=auth)
    assert r.status_code == 404 and r.json["message"] == "no facilitator 999"


def test_patch_changes_given_fields_and_audits(client, auth, make_facilitator):
    facilitator = make_facilitator(0)
    r = client.patch(
        f"{URL}/{facilitator.id}", json={"max_groups": 3, "timezone": "Europe/London"}, headers=auth
    )
    assert r.status_code == 200, r.json
    assert (r.json["max_groups"], r.json["timezone"], r.json["email"]) == (
        3,
        "Europe/London",
        "f0@example.org",
    )
    entry = AuditEntry.query.filter_by(action="facilitator.update").one()
    assert (entry.before["max_groups"], entry.after["max_groups"]) == (2, 3)


def test_patch_to_anothers_phone_is_a_conflict(client, auth, make_facilitator):
    first, second = make_facilitator(0), make_facilitator(1)
    r = client.patch(f"{URL}/{second.id}", json={"phone": first.phone}, headers=auth)
    assert r.status_code == 409 and "phone" in r.json["errors"]["json"]
    assert client.patch(f"{URL}/{second.id}", json={"phone": second.phone}, headers=auth).status_code == 200


def test_patch_with_bad_field_changes_nothing(client, auth, make_facilitator):
    facilitator = make_facilitator(0)
    changes = {"name": "Renamed", "availability": [{"day": "xyz", "start": "09:00", "end": "10:00"}]}
    r = client.patch(f"{URL}/{facilitator.id}", json=changes, headers=auth)
    assert r.status_code == 422 and "availability" in r.json["errors"]["json"]
    assert client.get(f"{URL}/{facilitator.id}", headers=auth).json["name"] == "Facilitator 0"


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"languages": ["es"]}, "languages"), ({"problem_areas": ["role_dispute"]}, "problem_areas")],
)
def test_patch_must_still_suit_the_groups_they_lead(client, auth, db, make_facilitator, changes, field):
    facilitator = make_facilitator(0)
    group = _lead_group(db, facilitator)
    r = client.patch(f"{URL}/{facilitator.id}", json=changes, headers=auth)
    assert r.status_code == 422
    assert f"group {group.id}" in r.json["errors"]["json"][field][0]
    assert AuditEntry.query.filter_by(action="facilitator.update").count() == 0


def test_patch_cannot_lower_max_groups_below_groups_led(client, auth, db, make_facilitator):
    facilitator = make_facilitator(0)
    _lead_group(db, facilitator)
    _lead_group(db, facilitator, day="wed")
    r = client.patch(f"{URL}/{facilitator.id}", json={"max_groups": 1}, headers=auth)
    assert r.status_code == 422 and "already lead 2 groups" in r.json["errors"]["json"]["max_groups"][0]


def test_delete_refused_while_leading_a_group(client, auth, db, make_facilitator):
    facilitator = make_facilitator(0)
    _lead_group(db, facilitator)
    r = client.delete(f"{URL}/{facilitator.id}", headers=auth)
    assert r.status_code == 409 and "reassign" in r.json["errors"]["json"]["id"][0]
    assert count(Facilitator) == 1


def test_delete_removes_their_tokens_and_audits(client, auth, make_facilitator, facilitator_auth):
    facilitator = make_facilitator(0)
    header = facilitator_auth(facilitator.id)
    assert client.delete(f"{URL}/{facilitator.id}", headers=auth).status_code == 204
    assert ApiToken.query.filter_by(facilitator_id=facilitator.id).count() == 0
    assert authenticate(header["Authorization"], NOW) is None
    assert client.get("/api/v1/groups", headers=header).status_code == 401
    actions = [
        e.action for e in AuditEntry.query.order_by(AuditEntry.id) if e.actor.startswith("coordinator")
    ]
    assert actions == ["token.delete", "facilitator.delete"]
    assert AuditEntry.query.filter_by(action="facilitator.delete").one().before["phone"] == "+12025550100"


def test_delete_unknown_is_404(client, auth):
    assert client.delete(f"{URL}/999", headers=auth).status_code == 404
