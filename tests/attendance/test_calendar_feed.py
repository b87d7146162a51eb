"""Calendar feed keys: one facilitator's URL revoked alone (API and CLI), the same 404 for an unknown
facilitator and a wrong key, a development secret made once per instance, and no key in the logs."""

import io
import json
import logging
import os
import stat

import pytest

from ipt_groups.logs import configure_logging
from ipt_groups.models import AuditEntry, Facilitator
from ipt_groups.startup import fill_instance_secrets, instance_secret


def _link(client, facilitator_id, headers) -> str:
    r = client.get(f"/api/v1/facilitators/{facilitator_id}/calendar-link", headers=headers)
    assert r.status_code == 200
    return r.json["url"].replace("http://localhost", "")


@pytest.fixture
def two(make_facilitator, facilitator_auth):
    first, second = make_facilitator(0), make_facilitator(1)
    return (first.id, facilitator_auth(first.id)), (second.id, facilitator_auth(second.id))


def test_a_revoked_feed_key_answers_404_and_the_other_feeds_keep_working(client, two):
    (fid, headers), (other, other_headers) = two
    old, others = _link(client, fid, headers), _link(client, other, other_headers)
    assert client.get(old).status_code == 200
    assert client.delete(f"/api/v1/facilitators/{fid}/calendar-link", headers=headers).status_code == 204
    assert client.get(old).status_code == 404
    assert client.get(others).status_code == 200  # revoked alone
    new = _link(client, fid, headers)
    assert new != old and client.get(new).status_code == 200
    audit = AuditEntry.query.filter_by(action="calendar_feed.revoke").one()
    assert (audit.before["feed_key_version"], audit.after["feed_key_version"]) == (1, 2)


def test_another_facilitator_cannot_revoke_a_feed(client, two):
    (fid, _headers), (_other, other_headers) = two
    r = client.delete(f"/api/v1/facilitators/{fid}/calendar-link", headers=other_headers)
    assert r.status_code == 403 and Facilitator.get_or_404(fid).feed_key_version == 1


def test_the_cli_revokes_one_feed(client, runner, two):
    (fid, headers), _ = two
    old = _link(client, fid, headers)
    result = runner.invoke(args=["ipt", "revoke-feed", str(fid)])
    assert result.exit_code == 0 and "revoked" in result.output
    assert client.get(old).status_code == 404
    assert runner.invoke(args=["ipt", "revoke-feed", "999"]).exit_code != 0


def test_an_unknown_facilitator_and_a_wrong_key_get_the_same_answer(client, two):
    (fid, headers), _ = two
    key = _link(client, fid, headers).split("key=")[1]
    wrong_key = client.get(f"/api/v1/facilitators/{fid}/calendar.ics?key={'0' * 40}")
    unknown_id = client.get(f"/api/v1/facilitators/99999/calendar.ics?key={key}")
    assert wrong_key.status_code == unknown_id.status_code == 404
    assert wrong_key.get_data() == unknown_id.get_data()


def test_a_development_secret_is_made_once_per_instance(tmp_path):
    first = instance_secret(str(tmp_path), "calendar-feed-secret")
    assert len(first) >= 40 and instance_secret(str(tmp_path), "calendar-feed-secret") == first
    assert stat.S_IMODE(os.stat(tmp_path / "calendar-feed-secret").st_mode) == 0o600
    assert instance_secret(str(tmp_path / ".."), "calendar-feed-secret-b") != first  # another instance
    config = {"CALENDAR_FEED_SECRET": ""}
    fill_instance_secrets(config, str(tmp_path))
    assert config["CALENDAR_FEED_SECRET"] == first
    production = {"CALENDAR_FEED_SECRET": "", "ENV_NAME": "production"}
    fill_instance_secrets(production, str(tmp_path))
    assert production["CALENDAR_FEED_SECRET"] == ""  # production must set its own (start-up refuses)


def test_the_request_log_has_no_feed_key(app, client, two):
    (fid, headers), _ = two
    link = _link(client, fid, headers)
    root, saved = logging.getLogger(), logging.getLogger().handlers[:]
    buffer = io.StringIO()
    configure_logging({"LOG_FORMAT": "json"}, stream=buffer)
    try:
        assert client.get(link).status_code == 200
    finally:
        root.handlers[:] = saved
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert lines and lines[-1]["message"].startswith(f"GET /api/v1/facilitators/{fid}/calendar.ics 200")
    assert link.split("key=")[1] not in buffer.getvalue() and "key=" not in buffer.getvalue()


def test_the_feed_names_a_group_by_its_number_never_its_name(
    client, db, started_group, make_member, facilitator_auth
):
    """A group's name may name its topic ("Grief support"), and a calendar shows on a lock screen."""
    group = started_group([make_member(0)])
    group.name = "Grief support Tuesday"
    db.session.commit()
    headers = facilitator_auth(group.facilitator_id)
    feed = client.get(_link(client, group.facilitator_id, headers)).get_data(as_text=True)
    assert f"SUMMARY:Group {group.id} session 1" in feed and "Grief" not in feed
