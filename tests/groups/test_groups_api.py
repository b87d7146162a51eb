"""Groups: create, change, enrol and remove members; the facilitator and member rules; audit."""

from datetime import timedelta

import pytest

from ipt_groups.groups.operations import enrol_member
from ipt_groups.models import AuditEntry, Enrolment, Group, Member
from tests.conftest import NOW, count, group_data

URL = "/api/v1/groups"


@pytest.fixture
def enrol(db):
    """Enrol a member through the domain function."""

    def add(group: Group, member: Member) -> Enrolment:
        enrolment = enrol_member(group, member, {}, "test", NOW)
        db.session.commit()
        return enrolment

    return add


def test_create_defaults_timezone_to_the_facilitators_and_audits(client, auth, make_facilitator):
    facilitator = make_facilitator(0, timezone="America/Denver")
    r = client.post(URL, json=group_data(facilitator.id), headers=auth)
    assert r.status_code == 201, r.json
    assert (r.json["timezone"], r.json["status"], r.json["members"]) == ("America/Denver", "forming", [])
    entry = AuditEntry.query.filter_by(action="group.create").one()
    assert entry.actor.startswith("coordinator:") and entry.after["timezone"] == "America/Denver"


def test_create_keeps_a_given_timezone(client, auth, make_facilitator):
    facilitator = make_facilitator(0)
    r = client.post(URL, json=group_data(facilitator.id, timezone="Europe/Madrid"), headers=auth)
    assert r.json["timezone"] == "Europe/Madrid"


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"day": "funday"}, "day", "Must be one of"),
        ({"start_time": "25:00"}, "start_time", "HH:MM"),
        ({"problem_area": "sadness"}, "problem_area", "Must be one of"),
        ({"timezone": "Mars/Olympus"}, "timezone", "not an IANA timezone"),
        ({"language": "English!"}, "language", "language tag"),
        ({"session_minutes": 10}, "session_minutes", "greater than or equal to 30"),
        ({"max_size": 1}, "max_size", "greater than or equal to 2"),
        ({"name": ""}, "name", "Length must be between 1 and 200"),
        ({"room": "B"}, "room", "Unknown field"),
        ({"facilitator_id": 999}, "facilitator_id", "no facilitator 999"),
        ({"language": "fr"}, "language", "does not speak 'fr'"),
        ({"problem_area": "role_transition"}, "problem_area", "does not lead role_transition"),
        ({"problem_area": None}, "problem_area", "does not lead mixed groups"),
    ],
)
def test_bad_group_fields_are_named_and_nothing_is_written(
    client, auth, make_facilitator, overrides, field, reason
):
    facilitator = make_facilitator(0)
    audited = count(AuditEntry)
    r = client.post(URL, json=group_data(facilitator.id, **overrides), headers=auth)
    assert r.status_code == 422
    assert reason in str(r.json["errors"]["json"][field])
    assert count(Group) == 0 and count(AuditEntry) == audited


def test_missing_fields_are_each_named(client, auth):
    r = client.post(URL, json={}, headers=auth)
    assert r.status_code == 422
    expected = {"name", "problem_area", "language", "day", "start_time", "facilitator_id"}
    assert set(r.json["errors"]["json"]) == expected


def test_a_facilitator_of_any_area_may_lead_a_mixed_group(client, auth, make_facilitator):
    facilitator = make_facilitator(0, problem_areas=[])
    r = client.post(URL, json=group_data(facilitator.id, problem_area=None), headers=auth)
    assert r.status_code == 201 and r.json["problem_area"] is None


def test_facilitator_at_max_groups_is_refused(client, auth, make_facilitator, make_group):
    facilitator = make_facilitator(0, max_groups=1)
    make_group(facilitator.id)
    r = client.post(URL, json=group_data(facilitator.id, day="fri"), headers=auth)
    assert r.status_code == 422
    assert "already leads 1 groups" in r.json["errors"]["json"]["facilitator_id"][0]
    assert count(Group) == 1


def test_finished_groups_do_not_count_towards_max_groups(client, auth, db, make_facilitator, make_group):
    facilitator = make_facilitator(0, max_groups=1)
    make_group(facilitator.id).status = "finished"
    db.session.commit()
    assert client.post(URL, json=group_data(facilitator.id), headers=auth).status_code == 201


# (existing group's day, time, zone), (new group's day, time, zone), does the new one clash?
SLOTS = [
    (("tue", "18:00", "America/Chicago"), ("tue", "18:00", "America/Chicago"), True),
    (("tue", "18:00", "America/Chicago"), ("tue", "19:29", "America/Chicago"), True),
    (("tue", "18:00", "America/Chicago"), ("tue", "19:30", "America/Chicago"), False),
    (("tue", "18:00", "America/Chicago"), ("tue", "16:31", "America/Chicago"), True),
    (("tue", "18:00", "America/Chicago"), ("tue", "16:30", "America/Chicago"), False),
    (("tue", "18:00", "America/Chicago"), ("wed", "18:00", "America/Chicago"), False),
    (("tue", "18:00", "America/Chicago"), ("tue", "19:00", "America/New_York"), True),
    (("tue", "18:00", "America/Chicago"), ("tue", "20:30", "America/New_York"), False),
    (("tue", "18:00", "America/Chicago"), ("wed", "01:00", "Europe/London"), True),
    (("sun", "23:00", "America/Los_Angeles"), ("mon", "07:30", "Europe/London"), True),
    (("sun", "23:00", "America/Los_Angeles"), ("mon", "08:30", "Europe/London"), False),
    (("mon", "00:30", "Asia/Tokyo"), ("sun", "14:30", "Europe/London"), True),
    (("mon", "00:30", "Asia/Tokyo"), ("sun", "14:00", "Europe/London"), False),
]


@pytest.mark.parametrize(("existing", "new", "clash"), SLOTS)
def test_facilitator_cannot_lead_two_groups_at_once(
    client, auth, make_facilitator, make_group, existing, new, clash
):
    facilitator = make_facilitator(0)
    other = make_group(facilitator.id, **dict(zip(("day", "start_time", "timezone"), existing, strict=True)))
    slot = dict(zip(("day", "start_time", "timezone"), new, strict=True))
    r = client.post(URL, json=group_data(facilitator.id, **slot), headers=auth)
    assert r.status_code == (422 if clash else 201), r.json
    if clash:
        assert f"leads group {other.id} at that time" in r.json["errors"]["json"]["facilitator_id"][0]


def test_a_clash_that_only_daylight_saving_brings_is_refused(client, auth, make_facilitator, make_group):
    """London 14:00 and New York 10:00 meet only between the US and EU clock changes (March 2027)."""
    facilitator = make_facilitator(0)
    make_group(facilitator.id, day="sun", start_time="14:00", timezone="Europe/London", session_minutes=60)
    slot = {"day": "sun", "start_time": "10:00", "timezone": "America/New_York", "session_minutes": 60}
    r = client.post(URL, json=group_data(facilitator.id, **slot), headers=auth)
    assert r.status_code == 422
    assert "(from 2027-03-14)" in r.json["errors"]["json"]["facilitator_id"][0]


def test_another_facilitator_may_take_the_same_slot(client, auth, make_facilitator, make_group):
    make_group(make_facilitator(0).id)
    assert client.post(URL, json=group_data(make_facilitator(1).id), headers=auth).status_code == 201


def test_wrong_content_type_is_415(client, auth, make_facilitator):
    r = client.post(URL, data="name=x", headers={**auth, "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415 and "Content-Type" in r.json["errors"]["headers"]
    assert count(Group) == 0


def test_malformed_json_is_400(client, auth):
    r = client.post(URL, data='{"name": [', headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 400 and "Invalid JSON" in str(r.json["errors"]["json"])
    assert count(Group) == 0


def test_oversized_body_is_413(app, client, auth):
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    r = client.post(URL, data=big, headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 413 and count(Group) == 0


def test_list_filters_by_status_and_facilitator(client, auth, db, make_facilitator, make_group):
    first, second = make_facilitator(0), make_facilitator(1)
    a, b = make_group(first.id), make_group(second.id, name="Other")
    b.status = "running"
    db.session.commit()
    assert [g["id"] for g in client.get(URL, headers=auth).json] == [a.id, b.id]
    assert [g["id"] for g in client.get(f"{URL}?status=running", headers=auth).json] == [b.id]
    assert [g["id"] for g in client.get(f"{URL}?facilitator_id={first.id}", headers=auth).json] == [a.id]
    r = client.get(f"{URL}?status=asleep", headers=auth)
    assert r.status_code == 422 and "status" in r.json["errors"]["query"]


def test_a_facilitator_sees_only_their_own_groups(client, make_facilitator, make_group, facilitator_auth):
    mine, theirs = make_facilitator(0), make_facilitator(1)
    own, other = make_group(mine.id), make_group(theirs.id)
    header = facilitator_auth(mine.id)
    assert [g["id"] for g in client.get(URL, headers=header).json] == [own.id]
    assert [g["id"] for g in client.get(f"{URL}?facilitator_id={theirs.id}", headers=header).json] == []
    assert client.get(f"{URL}/{own.id}", headers=header).status_code == 200
    r = client.get(f"{URL}/{other.id}", headers=header)
    assert r.status_code == 403 and "own groups" in r.json["message"]


def test_patch_changes_the_slot_and_audits(client, auth, make_facilitator, make_group):
    group = make_group(make_facilitator(0).id)
    r = client.patch(f"{URL}/{group.id}", json={"day": "thu", "name": "Thursday grief"}, headers=auth)
    assert r.status_code == 200, r.json
    assert (r.json["day"], r.json["name"], r.json["start_time"]) == ("thu", "Thursday grief", "18:00")
    entry = AuditEntry.query.filter_by(action="group.update").one()
    assert (entry.before["day"], entry.after["day"]) == ("tue", "thu")


def test_patch_to_its_own_slot_is_no_clash(client, auth, make_facilitator, make_group):
    group = make_group(make_facilitator(0).id)
    assert client.patch(f"{URL}/{group.id}", json={"start_time": "18:30"}, headers=auth).status_code == 200


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"start_time": "19:00"}, "facilitator_id", "at that time"),
        ({"language": "fr"}, "language", "does not speak 'fr'"),
        ({"day": "someday"}, "day", "Must be one of"),
        ({"facilitator_id": 999}, "facilitator_id", "no facilitator 999"),
        ({"timezone": None}, "timezone", "may not be null"),
    ],
)
def test_bad_patch_changes_nothing(client, auth, make_facilitator, make_group, changes, field, reason):
    facilitator = make_facilitator(0)
    make_group(facilitator.id, day="tue", start_time="19:30", name="Late")
    group = make_group(facilitator.id, day="tue", start_time="17:00")
    r = client.patch(f"{URL}/{group.id}", json={"name": "Renamed", **changes}, headers=auth)
    assert r.status_code == 422
    assert reason in str(r.json["errors"]["json"][field])
    assert client.get(f"{URL}/{group.id}", headers=auth).json["name"] == "Tuesday grief"
    assert AuditEntry.query.filter_by(action="group.update").count() == 0


def test_patch_can_move_the_group_to_a_free_facilitator(client, auth, make_facilitator, make_group):
    group = make_group(make_facilitator(0).id)
    other = make_facilitator(1)
    r = client.patch(f"{URL}/{group.id}", json={"facilitator_id": other.id}, headers=auth)
    assert r.status_code == 200 and r.json["facilitator_id"] == other.id


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"max_size": 2}, "max_size", "below the 3 members"),
        ({"language": "es"}, "language", "member speaks 'en'"),
        ({"problem_area": "role_dispute"}, "problem_area", "not the group's (role_dispute)"),
    ],
)
def test_patch_must_still_suit_its_members(
    client, auth, make_facilitator, make_group, make_member, enrol, changes, field, reason
):
    group = make_group(make_facilitator(0).id)
    for i in range(3):
        enrol(group, make_member(i))
    r = client.patch(f"{URL}/{group.id}", json=changes, headers=auth)
    assert r.status_code == 422
    assert reason in str(r.json["errors"]["json"][field])


def test_patch_unknown_group_is_404(client, auth):
    assert client.patch(f"{URL}/999", json={"name": "x"}, headers=auth).status_code == 404


def test_enrol_a_waitlisted_member_and_audit(client, auth, make_facilitator, make_group, make_member):
    group, member = make_group(make_facilitator(0).id), make_member(0)
    r = client.post(f"{URL}/{group.id}/members/{member.id}", headers=auth)
    assert r.status_code == 201, r.json
    assert (r.json["member_id"], r.json["name"], r.json["joined_on"]) == (member.id, "Member 0", "2026-11-25")
    assert client.get(f"/api/v1/members/{member.id}", headers=auth).json["status"] == "enrolled"
    assert [m["member_id"] for m in client.get(f"{URL}/{group.id}", headers=auth).json["members"]] == [
        member.id
    ]
    entry = AuditEntry.query.filter_by(action="group.enrol").one()
    assert entry.actor.startswith("coordinator:") and entry.after["member_id"] == member.id


def test_enrol_options_are_kept(client, auth, make_facilitator, make_group, make_member):
    group, member = make_group(make_facilitator(0).id), make_member(0)
    options = {"joined_on": "2026-12-01", "override_late_join": True}
    r = client.post(f"{URL}/{group.id}/members/{member.id}", json=options, headers=auth)
    assert (r.json["joined_on"], r.json["late_join_override"]) == ("2026-12-01", True)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "where", "field"),
    [
        ('{"joined_on": "yesterday"}', "application/json", 422, "json", "joined_on"),
        ('{"override_late_join": "maybe"}', "application/json", 422, "json", "override_late_join"),
        ('{"seat": 3}', "application/json", 422, "json", "seat"),
        ('{"joined_on": ', "application/json", 400, "json", "Invalid JSON body."),
        ("joined_on=2026-12-01", "application/x-www-form-urlencoded", 415, "headers", "Content-Type"),
    ],
)
def test_bad_enrol_input_enrols_nobody(
    client, auth, make_facilitator, make_group, make_member, body, content_type, status, where, field
):
    group, member = make_group(make_facilitator(0).id), make_member(0)
    r = client.post(
        f"{URL}/{group.id}/members/{member.id}", data=body, headers={**auth, "Content-Type": content_type}
    )
    assert r.status_code == status
    assert field in r.json["errors"][where]
    assert (
        count(Enrolment) == 0
        and client.get(f"/api/v1/members/{member.id}", headers=auth).json["status"] == "waitlisted"
    )


def test_enrolling_needs_a_waitlisted_member(client, auth, make_facilitator, make_group, make_member):
    group, member = make_group(make_facilitator(0).id), make_member(0)
    client.patch(f"/api/v1/members/{member.id}", json={"status": "withdrawn"}, headers=auth)
    r = client.post(f"{URL}/{group.id}/members/{member.id}", headers=auth)
    assert r.status_code == 409 and "withdrawn, not waitlisted" in r.json["errors"]["json"]["member_id"][0]
    assert count(Enrolment) == 0


def test_a_member_is_in_one_group_at_a_time(client, auth, make_facilitator, make_group, make_member, enrol):
    first = make_group(make_facilitator(0).id)
    second = make_group(make_facilitator(1).id)
    member = make_member(0)
    enrol(first, member)
    r = client.post(f"{URL}/{second.id}/members/{member.id}", headers=auth)
    assert r.status_code == 409 and f"already in group {first.id}" in r.json["errors"]["json"]["member_id"][0]


def test_a_full_group_takes_nobody(client, auth, make_facilitator, make_group, make_member, enrol):
    group = make_group(make_facilitator(0).id, max_size=2)
    enrol(group, make_member(0))
    enrol(group, make_member(1))
    r = client.post(f"{URL}/{group.id}/members/{make_member(2).id}", headers=auth)
    assert r.status_code == 409 and "has 2 members" in r.json["errors"]["json"]["group_id"][0]
    assert count(Enrolment) == 2


def test_a_closed_group_takes_nobody(client, auth, db, make_facilitator, make_group, make_member):
    group = make_group(make_facilitator(0).id)
    group.status = "cancelled"
    db.session.commit()
    r = client.post(f"{URL}/{group.id}/members/{make_member(0).id}", headers=auth)
    assert r.status_code == 409 and "cancelled" in r.json["errors"]["json"]["group_id"][0]


@pytest.mark.parametrize(
    ("group_overrides", "member_overrides", "field"),
    [
        ({}, {"language": "es"}, "language"),
        ({}, {"problem_area": "role_dispute"}, "problem_area"),
        ({"language": "es"}, {}, "language"),
    ],
)
def test_a_member_must_suit_the_group(
    client, auth, make_facilitator, make_group, make_member, group_overrides, member_overrides, field
):
    group = make_group(make_facilitator(0).id, **group_overrides)
    member = make_member(0, **member_overrides)
    r = client.post(f"{URL}/{group.id}/members/{member.id}", headers=auth)
    assert r.status_code == 422 and field in r.json["errors"]["json"]
    assert count(Enrolment) == 0


@pytest.mark.parametrize("area", ["grief", "role_dispute", "role_transition", "interpersonal_deficits"])
def test_a_mixed_group_takes_any_problem_area(client, auth, make_facilitator, make_group, make_member, area):
    group = make_group(make_facilitator(0, problem_areas=[]).id, problem_area=None)
    r = client.post(f"{URL}/{group.id}/members/{make_member(0, problem_area=area).id}", headers=auth)
    assert r.status_code == 201, r.json


@pytest.mark.parametrize(("first", "second"), [("adult", "adolescent"), ("adolescent", "adult")])
def test_adolescents_are_never_with_adults(
    client, auth, make_facilitator, make_group, make_member, enrol, first, second
):
    group = make_group(make_facilitator(0).id)
    enrol(group, make_member(0, age_band=first))
    r = client.post(f"{URL}/{group.id}/members/{make_member(1, age_band=second).id}", headers=auth)
    assert r.status_code == 422 and "never in one group" in r.json["errors"]["json"]["age_band"][0]
    assert count(Enrolment) == 1


def test_enrol_unknown_group_or_member_is_404(client, auth, make_facilitator, make_group, make_member):
    group, member = make_group(make_facilitator(0).id), make_member(0)
    assert client.post(f"{URL}/999/members/{member.id}", headers=auth).status_code == 404
    assert client.post(f"{URL}/{group.id}/members/999", headers=auth).status_code == 404


def test_remove_returns_the_member_to_the_waitlist_in_their_place(
    client, auth, make_facilitator, make_group, make_member, enrol
):
    group = make_group(make_facilitator(0).id)
    member = make_member(0, waitlisted_at=NOW - timedelta(days=40))
    enrol(group, member)
    assert client.delete(f"{URL}/{group.id}/members/{member.id}", headers=auth).status_code == 204
    after = client.get(f"/api/v1/members/{member.id}", headers=auth).json
    assert (after["status"], after["waitlisted_at"]) == ("waitlisted", "2026-10-16T12:00:00+00:00")
    assert client.get(f"{URL}/{group.id}", headers=auth).json["members"] == []
    entry = AuditEntry.query.filter_by(action="group.remove").one()
    assert (entry.before["left_on"], entry.after["left_on"], entry.after["left_reason"]) == (
        None,
        "2026-11-25",
        "removed",
    )


def test_a_removed_member_may_join_again(client, auth, make_facilitator, make_group, make_member, enrol):
    group, member = make_group(make_facilitator(0).id), make_member(0)
    enrol(group, member)
    client.delete(f"{URL}/{group.id}/members/{member.id}", headers=auth)
    assert client.post(f"{URL}/{group.id}/members/{member.id}", headers=auth).status_code == 201
    assert count(Enrolment) == 2


def test_remove_someone_not_in_the_group_is_404(client, auth, make_facilitator, make_group, make_member):
    group, member = make_group(make_facilitator(0).id), make_member(0)
    r = client.delete(f"{URL}/{group.id}/members/{member.id}", headers=auth)
    assert r.status_code == 404 and r.json["message"] == f"member {member.id} is not in group {group.id}"


def test_each_change_to_a_group_is_audited_with_who_when_and_what(
    client, auth, make_facilitator, make_member
):
    group_id = client.post(URL, json=group_data(make_facilitator(0).id), headers=auth).json["id"]
    member = make_member(0)
    client.patch(f"{URL}/{group_id}", json={"max_size": 8}, headers=auth)
    client.post(f"{URL}/{group_id}/members/{member.id}", headers=auth)
    client.delete(f"{URL}/{group_id}/members/{member.id}", headers=auth)
    entries = AuditEntry.query.filter(AuditEntry.action.like("group.%")).order_by(AuditEntry.id).all()
    assert [(e.action, e.entity_type) for e in entries] == [
        ("group.create", "groups"),
        ("group.update", "groups"),
        ("group.enrol", "enrolments"),
        ("group.remove", "enrolments"),
    ]
    assert {e.actor for e in entries} == {AuditEntry.query.filter_by(action="group.create").one().actor}
    assert entries[0].actor.startswith("coordinator:test coordinator#token")
    assert all(e.at is not None and e.at.utcoffset() == timedelta(0) for e in entries)
    assert (entries[1].before["max_size"], entries[1].after["max_size"]) == (10, 8)
    assert entries[0].entity_id == str(group_id) and entries[2].before is None
