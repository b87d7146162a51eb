"""The phone to call: an alert shows it to coordinators and to the facilitator of the member's group
(when it was raised and now, if the member moved), to nobody else, and nowhere else in a facilitator's
API; every such read is in the access log."""

from datetime import timedelta

import pytest

from ipt_groups.checkins.alerts import raise_safety_alert
from ipt_groups.extensions import db as _db
from ipt_groups.models import AccessEntry, Group
from tests.conftest import NOW
from tests.cross_cutting.test_auth import ANYONE, OWN, ROUTES, call, ids  # noqa: F401 (ids: the fixture)

STRANGER = "+13125559876"


@pytest.fixture
def two_groups(db, make_facilitator, make_member, make_group):
    """Member A in facilitator A's group with a safety alert; facilitator B leads another group."""
    from ipt_groups.groups.operations import enrol_member

    lead_a, lead_b = make_facilitator(0), make_facilitator(1)
    member = make_member(0)
    group = make_group(lead_a.id)
    make_group(lead_b.id, name="Other group")
    enrol_member(group, member, {}, "test", NOW)
    alert = raise_safety_alert(member, "crisis_words", {"phrase": "kms"}, NOW)
    stranger = raise_safety_alert(None, "crisis_words", {"phrase": "kms"}, NOW, from_phone=STRANGER)
    db.session.commit()
    return {"a": lead_a.id, "b": lead_b.id, "member": member, "alert": alert.id, "stranger": stranger.id}


def _reads():
    """Reads of phones (the alerts themselves are logged too: tests/cross_cutting/test_access_log.py)."""
    _db.session.expire_all()
    phones = AccessEntry.query.filter(AccessEntry.what.in_(("member_phone", "sender_phone")))
    return [(e.actor, e.what, e.member_id, e.via, e.detail) for e in phones.order_by(AccessEntry.id)]


def test_the_groups_facilitator_sees_the_phone_and_the_read_is_logged(client, two_groups, facilitator_auth):
    world = two_groups
    headers = facilitator_auth(world["a"])
    listed = client.get("/api/v1/alerts", headers=headers).json
    assert [(a["id"], a["phone"]) for a in listed] == [(world["alert"], world["member"].phone)]
    one = client.get(f"/api/v1/alerts/{world['alert']}", headers=headers)
    assert one.status_code == 200 and one.json["phone"] == world["member"].phone
    actor = f"facilitator:facilitator {world['a']}"
    assert [(r[1], r[2], r[3], r[4]) for r in _reads()] == [
        ("member_phone", world["member"].id, "GET /api/v1/alerts", {"alert_ids": [world["alert"]]}),
        (
            "member_phone",
            world["member"].id,
            f"GET /api/v1/alerts/{world['alert']}",
            {"alert_ids": [world["alert"]]},
        ),
    ]
    assert all(r[0].startswith(actor) for r in _reads())


def test_another_facilitator_sees_neither_the_alert_nor_the_phone(client, two_groups, facilitator_auth):
    headers = facilitator_auth(two_groups["b"])
    assert client.get("/api/v1/alerts", headers=headers).json == []
    r = client.get(f"/api/v1/alerts/{two_groups['alert']}", headers=headers)
    assert r.status_code == 403 and two_groups["member"].phone not in r.get_data(as_text=True)
    assert client.get(f"/api/v1/alerts/{two_groups['stranger']}", headers=headers).status_code == 403
    assert _reads() == []


def test_coordinators_see_members_and_strangers_phones_each_read_logged(client, auth, two_groups):
    listed = {a["id"]: a for a in client.get("/api/v1/alerts", headers=auth).json}
    assert listed[two_groups["alert"]]["phone"] == two_groups["member"].phone
    stranger = listed[two_groups["stranger"]]
    assert stranger["phone"] == STRANGER and "from_phone" not in stranger["detail"]
    assert sorted((r[1], r[2]) for r in _reads()) == sorted(
        [("member_phone", two_groups["member"].id), ("sender_phone", None)]
    )


def test_the_ack_answer_shows_no_phone_and_logs_no_read(client, two_groups, facilitator_auth):
    r = client.post(
        f"/api/v1/alerts/{two_groups['alert']}/ack", json={}, headers=facilitator_auth(two_groups["a"])
    )
    assert r.status_code == 200 and r.json["phone"] is None and _reads() == []


def test_an_alert_shows_who_was_told_and_the_escalation(client, auth, two_groups, app, monkeypatch):
    monkeypatch.setitem(app.config, "FIXED_NOW", NOW + timedelta(minutes=1))
    alert = client.get(f"/api/v1/alerts/{two_groups['alert']}", headers=auth).json
    assert alert["escalation_level"] == 0
    assert alert["next_escalation_at"] == (NOW + timedelta(minutes=30)).isoformat()
    assert [(n["to"], n["level"], n["state"], n["delivered"]) for n in alert["notified"]] == [
        ("facilitator", 0, "pending", None)
    ]
    assert alert["delivery"] == {"told": 1, "accepted": 0, "delivered": 0, "waiting": 1, "undelivered": 0}


def test_no_other_facilitator_route_shows_a_members_phone(client, ids, facilitator_auth):  # noqa: F811
    """The facilitator's own group, every route they may call: the phone only on the alerts."""
    headers = facilitator_auth(ids["facilitator_id"])
    phone = "+13125551000"  # member_data(0), the member of the `ids` group, who has an outreach alert
    showing = set()
    for method, path, who in ROUTES:
        if method == "GET" and who in (OWN, ANYONE):
            r = call(client, method, path, ids, headers)
            assert r.status_code == 200, (path, r.status_code)
            if phone in r.get_data(as_text=True):
                showing.add(path)
    assert showing == {"/api/v1/alerts", "/api/v1/alerts/{alert_id}"}


def _seen_by(client, facilitator_auth, facilitator_id, alert_id) -> tuple[list, int, str | None]:
    headers = facilitator_auth(facilitator_id)
    listed = [a["id"] for a in client.get("/api/v1/alerts", headers=headers).json]
    one = client.get(f"/api/v1/alerts/{alert_id}", headers=headers)
    return listed, one.status_code, one.json.get("phone") if one.status_code == 200 else None


def test_after_a_move_the_old_and_the_new_facilitator_both_see_the_open_alert(
    client, two_groups, facilitator_auth, make_facilitator, make_group
):
    from ipt_groups.groups.operations import enrol_member, remove_member

    world, member = two_groups, two_groups["member"]
    lead_c = make_facilitator(2)
    old_group = member.current_enrolment.group_id
    remove_member(old_group, member.id, "test", NOW)
    enrol_member(_db.session.get(Group, _group_of(world["b"])), member, {}, "test", NOW)
    _db.session.commit()
    alert = world["alert"]
    assert _seen_by(client, facilitator_auth, world["a"], alert) == ([alert], 200, member.phone)  # then
    assert _seen_by(client, facilitator_auth, world["b"], alert) == ([alert], 200, member.phone)  # now
    assert _seen_by(client, facilitator_auth, lead_c.id, alert) == ([], 403, None)
    r = client.post(f"/api/v1/alerts/{alert}/ack", headers=facilitator_auth(world["b"]))
    assert r.status_code == 200  # the member's facilitator now may acknowledge it
    # closed, it is history: the group's it was raised in, not the member's new group's
    assert _seen_by(client, facilitator_auth, world["b"], alert)[1] == 403
    assert _seen_by(client, facilitator_auth, world["a"], alert)[1] == 200


def test_a_waitlisted_members_alert_is_seen_by_the_facilitator_of_the_group_they_join(
    client, two_groups, facilitator_auth, make_member
):
    from ipt_groups.groups.operations import enrol_member

    waiting = make_member(5)
    alert = raise_safety_alert(waiting, "crisis_words", {"phrase": "kms"}, NOW)
    _db.session.commit()
    assert _seen_by(client, facilitator_auth, two_groups["b"], alert.id) == ([], 403, None)
    enrol_member(_db.session.get(Group, _group_of(two_groups["b"])), waiting, {}, "test", NOW)
    _db.session.commit()
    assert _seen_by(client, facilitator_auth, two_groups["b"], alert.id) == ([alert.id], 200, waiting.phone)


def _group_of(facilitator_id: int) -> int:
    return Group.query.filter_by(facilitator_id=facilitator_id).one().id


def test_reveal_shows_nothing_to_a_facilitator_of_another_group_even_when_asked(two_groups):
    from ipt_groups.auth import Principal
    from ipt_groups.checkins.alerts import reveal_phones
    from ipt_groups.models import Alert

    alert = _db.session.get(Alert, two_groups["alert"])
    reveal_phones([alert], Principal("facilitator", "B", two_groups["b"]), "test", NOW)
    assert getattr(alert, "revealed_phone", None) is None and _reads() == []
