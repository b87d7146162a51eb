"""The `flask ipt ...` commands: tokens that work and stop working, listing without secrets, the demo."""

import os
from collections import Counter

from ipt_groups.cli import cli_actor
from ipt_groups.models import ApiToken, AuditEntry, Facilitator, Member
from tests.conftest import count


def ipt(runner, *args: str):
    """Run `flask ipt ARGS...`."""
    return runner.invoke(args=["ipt", *args])


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def printed_token(output: str) -> str:
    """The token a command printed on its last line."""
    token = output.strip().splitlines()[-1]
    assert token.startswith("ipt_"), output
    return token


def test_create_token_prints_a_working_coordinator_token(runner, client):
    result = ipt(runner, "create-token", "--role", "coordinator", "--name", "Ana at the clinic")
    assert result.exit_code == 0, result.output
    token = printed_token(result.output)
    assert "(coordinator, Ana at the clinic)" in result.output
    assert client.get("/api/v1/members", headers=bearer(token)).status_code == 200
    row = ApiToken.query.one()
    assert row.token_hash != token and token not in str(row.token_hash)
    entry = AuditEntry.query.filter_by(action="token.create").one()
    assert entry.actor == cli_actor() and "token_hash" not in entry.after
    assert entry.after["name"] == "Ana at the clinic"


def test_a_facilitator_token_names_its_facilitator(runner, client, make_facilitator):
    facilitator = make_facilitator(0)
    result = ipt(
        runner,
        "create-token",
        "--role",
        "facilitator",
        "--name",
        "Dana",
        "--facilitator",
        str(facilitator.id),
    )
    assert result.exit_code == 0, result.output
    token = printed_token(result.output)
    assert client.get("/api/v1/groups", headers=bearer(token)).status_code == 200
    assert client.get("/api/v1/members", headers=bearer(token)).status_code == 403
    assert ApiToken.query.one().facilitator_id == facilitator.id


def test_an_unknown_facilitator_fails_cleanly(runner):
    result = ipt(runner, "create-token", "--role", "facilitator", "--name", "Ghost", "--facilitator", "999")
    assert result.exit_code == 1
    assert "Error: a facilitator token names an existing facilitator" in result.output
    assert "Traceback" not in result.output
    assert count(ApiToken) == 0 and count(AuditEntry) == 0


def test_a_facilitator_token_needs_a_facilitator(runner):
    result = ipt(runner, "create-token", "--role", "facilitator", "--name", "Nobody")
    assert result.exit_code == 1 and "names an existing facilitator" in result.output
    assert count(ApiToken) == 0


def test_a_coordinator_token_names_no_facilitator(runner, make_facilitator):
    facilitator = make_facilitator(0)
    result = ipt(
        runner, "create-token", "--role", "coordinator", "--name", "x", "--facilitator", str(facilitator.id)
    )
    assert result.exit_code == 1 and "names no facilitator" in result.output
    assert count(ApiToken) == 0


def test_an_unknown_role_is_a_usage_error(runner):
    result = ipt(runner, "create-token", "--role", "admin", "--name", "x")
    assert result.exit_code == 2 and "'admin' is not one of" in result.output
    assert count(ApiToken) == 0


def test_revoke_token_makes_it_stop_working(runner, client):
    token = printed_token(ipt(runner, "create-token", "--role", "coordinator", "--name", "leaver").output)
    row_id = ApiToken.query.one().id
    result = ipt(runner, "revoke-token", str(row_id))
    assert result.exit_code == 0 and f"token {row_id} revoked" in result.output
    assert client.get("/api/v1/members", headers=bearer(token)).status_code == 401
    entry = AuditEntry.query.filter_by(action="token.revoke").one()
    assert entry.before["revoked_at"] is None and entry.after["revoked_at"] is not None
    assert entry.actor == cli_actor()


def test_revoking_an_unknown_token_fails_cleanly(runner):
    result = ipt(runner, "revoke-token", "999")
    assert result.exit_code == 1 and "Error: no token 999" in result.output


def test_list_tokens_never_prints_secrets(runner, make_facilitator):
    facilitator = make_facilitator(0)
    first = printed_token(ipt(runner, "create-token", "--role", "coordinator", "--name", "Ana").output)
    args = ("--role", "facilitator", "--name", "Dana", "--facilitator", str(facilitator.id))
    second = printed_token(ipt(runner, "create-token", *args).output)
    ipt(runner, "revoke-token", str(ApiToken.query.filter_by(name="Ana").one().id))
    result = ipt(runner, "list-tokens")
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    first_row = lines[0].split("\t")
    assert first_row[1:3] == ["coordinator", "Ana"] and first_row[3].startswith("revoked ")
    assert lines[1].split("\t")[1:] == [
        f"facilitator facilitator {facilitator.id}",
        "Dana",
        "active",
        "no expiry",
        "never used",
    ]
    for secret in (first, second, *(row.token_hash for row in ApiToken.query)):
        assert secret not in result.output


def test_load_demo_loads_a_waitlist_and_prints_a_working_token(runner, client):
    result = ipt(runner, "load-demo", "--if-empty")
    assert result.exit_code == 0, result.output
    token = printed_token(result.output)
    members = client.get("/api/v1/members?page_size=100", headers=bearer(token)).json
    assert len(members) == 60 and {m["status"] for m in members} == {"waitlisted"}
    assert set(Counter(m["problem_area"] for m in members)) == {
        "grief",
        "role_dispute",
        "role_transition",
        "interpersonal_deficits",
    }
    assert count(Facilitator) == 4
    assert {e.actor for e in AuditEntry.query} == {cli_actor()}


def test_every_demo_member_has_a_facilitator_who_could_lead_their_group(runner):
    ipt(runner, "load-demo")
    facilitators = Facilitator.query.all()
    for language, area in {(m.language, m.problem_area) for m in Member.query}:
        leads = [
            f
            for f in facilitators
            if language in f.languages and (not f.problem_areas or area in f.problem_areas)
        ]
        assert leads, (language, area)


def test_load_demo_twice_does_nothing_the_second_time(runner):
    ipt(runner, "load-demo", "--if-empty")
    counts = (count(Member), count(Facilitator), count(ApiToken), count(AuditEntry))
    result = ipt(runner, "load-demo", "--if-empty")
    assert result.exit_code == 0 and "already loaded" in result.output
    assert "ipt_" not in result.output
    assert (count(Member), count(Facilitator), count(ApiToken), count(AuditEntry)) == counts


def test_load_demo_without_if_empty_on_loaded_data_fails_cleanly(runner):
    ipt(runner, "load-demo")
    members = count(Member)
    result = ipt(runner, "load-demo")
    assert result.exit_code == 1 and "already in use" in result.output and "Traceback" not in result.output
    assert count(Member) == members


def test_load_demo_can_keep_the_token_in_a_private_file_instead_of_printing_it(runner, client, tmp_path):
    path = tmp_path / "token"
    result = ipt(runner, "load-demo", "--token-file", str(path))
    token = path.read_text().strip()
    assert result.output == f"Demo programme loaded; its coordinator token is in {path}.\n"
    assert token.startswith("ipt_") and token not in result.output
    assert client.get("/api/v1/members", headers=bearer(token)).status_code == 200
    assert os.stat(path).st_mode & 0o777 == 0o600
