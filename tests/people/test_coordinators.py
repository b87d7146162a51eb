"""Coordinators as people: created, changed and removed through the API and the CLI, audited, phones
validated as members' are; a coordinator token may name its coordinator; bad input changes nothing."""

import pytest

from ipt_groups.auth import authenticate, create_token
from ipt_groups.errors import InvalidInput
from ipt_groups.messaging.outbox import plan_once
from ipt_groups.models import ApiToken, AuditEntry, Coordinator
from tests.conftest import NOW, count
from tests.cross_cutting.test_cli import bearer, ipt, printed_token

URL = "/api/v1/coordinators"


def coordinator_data(**overrides) -> dict:
    data = {"name": "Cora Diaz", "phone": "(202) 555-0701", "language": "es", "timezone": "America/Chicago"}
    return {**data, **overrides}


def test_create_normalises_the_phone_and_audits(client, auth):
    r = client.post(URL, json=coordinator_data(), headers=auth)
    assert r.status_code == 201, r.json
    assert (r.json["phone"], r.json["language"], r.json["active"]) == ("+12025550701", "es", True)
    entry = AuditEntry.query.filter_by(action="coordinator.create").one()
    assert entry.actor.startswith("coordinator:test coordinator") and entry.after["phone"] == "+12025550701"
    assert client.get(f"{URL}/{r.json['id']}", headers=auth).json["name"] == "Cora Diaz"
    assert [c["id"] for c in client.get(URL, headers=auth).json] == [r.json["id"]]


def test_a_coordinator_without_a_phone_is_a_person_too(client, auth):
    data = coordinator_data()
    del data["phone"], data["language"]
    r = client.post(URL, json=data, headers=auth)
    assert r.status_code == 201 and (r.json["phone"], r.json["language"]) == (None, "en")


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"phone": "12"}, "phone", "not a valid phone number"),
        ({"phone": "ring me"}, "phone", "not a phone number"),
        ({"timezone": "Mars/Olympus"}, "timezone", "not an IANA timezone"),
        ({"language": "Spanish!"}, "language", "language tag"),
        ({"name": ""}, "name", "Length must be between 1 and 200"),
        ({"active": "yes"}, "active", "Not a valid boolean"),
        ({"pager": "x"}, "pager", "Unknown field"),
    ],
)
def test_bad_input_names_the_field_and_creates_nothing(client, auth, overrides, field, reason):
    r = client.post(URL, json=coordinator_data(**overrides), headers=auth)
    assert r.status_code == 422 and reason in str(r.json["errors"]["json"][field]), r.json
    assert count(Coordinator) == 0 and AuditEntry.query.filter_by(entity_type="coordinators").count() == 0


def test_a_phone_is_one_coordinators_only(client, auth):
    assert client.post(URL, json=coordinator_data(), headers=auth).status_code == 201
    r = client.post(URL, json=coordinator_data(name="Other", phone="+12025550701"), headers=auth)
    assert r.status_code == 409 and "phone" in r.json["errors"]["json"]
    assert count(Coordinator) == 1


def test_patch_changes_and_audits_and_inactive_is_kept(client, auth):
    created = client.post(URL, json=coordinator_data(), headers=auth).json
    r = client.patch(f"{URL}/{created['id']}", json={"active": False, "phone": "202 555 0702"}, headers=auth)
    assert r.status_code == 200 and (r.json["active"], r.json["phone"]) == (False, "+12025550702")
    entry = AuditEntry.query.filter_by(action="coordinator.update").one()
    assert (entry.before["active"], entry.after["active"]) == (True, False)
    bad = client.patch(f"{URL}/{created['id']}", json={"phone": "12"}, headers=auth)
    assert (
        bad.status_code == 422 and client.get(f"{URL}/{created['id']}", headers=auth).json["active"] is False
    )


def test_delete_removes_a_coordinator_never_texted_with_their_tokens(client, auth, db):
    created = client.post(URL, json=coordinator_data(), headers=auth).json
    create_token("coordinator", "Cora", None, "test", coordinator_id=created["id"])
    db.session.commit()
    assert client.delete(f"{URL}/{created['id']}", headers=auth).status_code == 204
    assert count(Coordinator) == 0 and ApiToken.query.filter_by(coordinator_id=created["id"]).count() == 0
    assert {e.action for e in AuditEntry.query} >= {"coordinator.delete", "token.delete"}


def test_delete_refuses_a_coordinator_who_is_part_of_alert_records(client, auth, db):
    created = client.post(URL, json=coordinator_data(), headers=auth).json
    plan_once(
        {"dedupe_key": "alert1:c1", "kind": "safety_alert", "due_at": NOW, "coordinator_id": created["id"]}
    )
    db.session.commit()
    r = client.delete(f"{URL}/{created['id']}", headers=auth)
    assert r.status_code == 409 and "set active to false" in str(r.json["errors"])
    assert count(Coordinator) == 1


def test_a_coordinator_token_may_name_its_coordinator(db, client, make_facilitator):
    person = Coordinator(name="Cora", phone="+12025550701", timezone="UTC")
    db.session.add(person)
    db.session.commit()
    _row, token = create_token("coordinator", "Cora", None, "test", coordinator_id=person.id)
    db.session.commit()
    assert authenticate(f"Bearer {token}", NOW).coordinator_id == person.id
    assert client.get(URL, headers=bearer(token)).status_code == 200
    with pytest.raises(InvalidInput, match="existing coordinator"):
        create_token("coordinator", "Nobody", None, "test", coordinator_id=999)
    with pytest.raises(InvalidInput, match="names no coordinator"):
        create_token("facilitator", "F", make_facilitator(0).id, "test", coordinator_id=person.id)


def test_the_cli_adds_changes_and_lists_coordinators(runner):
    added = ipt(
        runner, "add-coordinator", "--name", "Cora Diaz", "--phone", "202-555-0701", "--timezone", "UTC"
    )
    assert added.exit_code == 0, added.output
    person = Coordinator.query.one()
    assert (person.phone, person.language, person.active) == ("+12025550701", "en", True)
    changed = ipt(runner, "update-coordinator", str(person.id), "--inactive", "--language", "es")
    assert changed.exit_code == 0, changed.output
    listed = ipt(runner, "list-coordinators").output
    assert "Cora Diaz" in listed and "inactive" in listed and "+12025550701" not in listed  # masked
    actions = [e.action for e in AuditEntry.query.order_by(AuditEntry.id)]
    assert actions == ["coordinator.create", "coordinator.update"]


def test_the_cli_refuses_a_bad_phone_naming_the_option(runner):
    result = ipt(runner, "add-coordinator", "--name", "Cora", "--phone", "12", "--timezone", "UTC")
    assert result.exit_code != 0 and "--phone" in result.output and "not a valid phone" in result.output
    assert count(Coordinator) == 0


def test_the_cli_issues_a_token_naming_a_coordinator(runner, client):
    ipt(runner, "add-coordinator", "--name", "Cora", "--timezone", "UTC")
    person = Coordinator.query.one()
    result = ipt(
        runner, "create-token", "--role", "coordinator", "--name", "Cora", "--coordinator", str(person.id)
    )
    assert result.exit_code == 0, result.output
    token = printed_token(result.output)
    assert ApiToken.query.one().coordinator_id == person.id
    assert f"coordinator {person.id}" in ipt(runner, "list-tokens").output
    assert client.get(URL, headers=bearer(token)).status_code == 200
