"""What the pages do: the facilitator's sessions, roster and one-tap marks, alerts with the phone to call
(each read logged), the sheet, the calendar; the console's waitlist, import, proposal grid, cycle
changes and outcomes; and that a facilitator sees on the pages exactly what their API token shows."""

from __future__ import annotations

import re

from sqlalchemy import select

from ipt_groups.auth import create_token
from ipt_groups.models import AccessEntry, Alert, AttendanceRecord, AuditEntry, GroupProposal, Member, Rsvp
from tests.conftest import NOW, member_data
from tests.web.conftest import csrf_token, post

FETCH = {"X-Requested-With": "fetch"}


def ids_on(html: bytes, attribute: str) -> set[int]:
    return {int(v) for v in re.findall(rf'{attribute}="(\d+)"'.encode(), html)}


def api(client, db, path: str, role: str, facilitator_id: int | None = None):
    _row, token = create_token(role, "api", facilitator_id, "test")
    db.session.commit()
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


def test_home_lists_today_coming_and_last_weeks_sessions(lead_client, programme):
    html = lead_client.get("/app/").data
    s = programme["sessions"]
    assert ids_on(html, "data-session-id") == {s[2].id, s[3].id, s[4].id, s[5].id}  # 24 Nov, then to 15 Dec
    assert b"Last week: record who came" in html and b"0 marked" in html
    assert b"1 open alert" in html and b"1 outreach task" in html


def test_the_roster_shows_first_names_replies_and_a_phone_to_call(app, db, lead_client, programme):
    session, (ana, bea, _cruz) = programme["sessions"][2], programme["members"]
    db.session.add_all(
        [
            Rsvp(session_id=session.id, member_id=ana.id, response="confirm", responded_at=NOW),
            Rsvp(session_id=session.id, member_id=bea.id, response="decline", responded_at=NOW),
        ]
    )
    db.session.commit()
    html = lead_client.get(f"/app/sessions/{session.id}").get_data(as_text=True)
    assert "Ana</strong>" in html and "Diaz" not in html
    assert "Confirmed" in html and "Can't come" in html and "No answer" in html
    assert f'href="tel:{ana.phone}"' in html
    reads = db.session.scalars(select(AccessEntry)).all()
    assert sorted(r.member_id for r in reads) == sorted(m.id for m in programme["members"])
    assert {r.what for r in reads} == {"member_phone"} and reads[0].via == f"GET /app/sessions/{session.id}"
    assert reads[0].actor.startswith("facilitator:Facilitator 0#web")


def test_one_tap_saves_at_once_and_can_be_corrected(db, lead_client, programme):
    session, ana = programme["sessions"][2], programme["members"][0]
    path = f"/app/sessions/{session.id}/attendance"
    page = f"/app/sessions/{session.id}"
    r = post(lead_client, path, {"member_id": ana.id, "status": "absent"}, page=page, headers=FETCH)
    assert r.status_code == 200 and b"Saved: absent" in r.data and b'id="marks-' in r.data
    r = post(lead_client, path, {"member_id": ana.id, "status": "late"}, page=page, headers=FETCH)
    assert b"Saved: late" in r.data
    record = db.session.scalar(select(AttendanceRecord).filter_by(session_id=session.id, member_id=ana.id))
    assert record.status == "late" and record.recorded_by.startswith("facilitator:")
    assert db.session.query(AuditEntry).filter_by(action="attendance.record").count() == 2
    without_script = post(lead_client, path, {"member_id": ana.id, "status": "present"}, page=page)
    assert without_script.status_code == 303 and without_script.headers["Location"].endswith(
        f"#member-{ana.id}"
    )


def test_a_mark_before_the_session_starts_is_refused_and_nothing_is_saved(db, lead_client, programme):
    later, ana = programme["sessions"][3], programme["members"][0]
    page = f"/app/sessions/{later.id}"
    assert b"once the session starts" in lead_client.get(page).data
    r = post(
        lead_client,
        f"{page}/attendance",
        {"member_id": ana.id, "status": "present"},
        page=page,
        headers=FETCH,
    )
    assert r.status_code == 409 and "has not started" in r.json["message"] + str(r.json.get("errors"))
    assert db.session.query(AttendanceRecord).count() == 0


def test_a_mark_for_someone_not_in_the_group_is_refused(db, lead_client, programme):
    session = programme["sessions"][2]
    path = f"/app/sessions/{session.id}/attendance"
    r = post(lead_client, path, {"member_id": programme["stranger"].id, "status": "present"}, headers=FETCH)
    assert r.status_code == 422 and "not in this group" in str(r.json["errors"])
    bad = post(
        lead_client, path, {"member_id": programme["members"][0].id, "status": "asleep"}, headers=FETCH
    )
    assert bad.status_code == 422 and "status" in str(bad.json["errors"])
    assert db.session.query(AttendanceRecord).count() == 0


def test_alerts_show_the_phone_and_acknowledge(db, lead_client, programme):
    alert = programme["alerts"]["safety"]
    html = lead_client.get("/app/alerts").get_data(as_text=True)
    assert f'data-alert-id="{alert.id}"' in html and f"tel:{programme['members'][0].phone}" in html
    assert "Escalation level 0" in html
    read = db.session.scalar(select(AccessEntry).where(AccessEntry.via == "GET /app/alerts"))
    assert read.member_id == programme["members"][0].id
    r = post(lead_client, f"/app/alerts/{alert.id}/ack", {"note": "called her"})
    assert r.status_code == 303
    db.session.expire_all()
    acked = db.session.get(Alert, alert.id)
    assert acked.acknowledged_at == NOW and acked.detail["ack_note"] == "called her"
    assert f'data-alert-id="{alert.id}"' not in lead_client.get("/app/alerts").get_data(as_text=True)


def test_outreach_tasks_are_apart_from_alerts(lead_client, programme):
    outreach = programme["alerts"]["outreach"]
    assert ids_on(lead_client.get("/app/outreach").data, "data-alert-id") == {outreach.id}
    assert outreach.id not in ids_on(lead_client.get("/app/alerts").data, "data-alert-id")


def test_the_sheet_downloads_as_csv_and_pdf(lead_client, programme):
    group = programme["group"]
    csv = lead_client.get(f"/app/groups/{group.id}/sheet.csv")
    assert csv.mimetype == "text/csv" and "Ana Diaz" in csv.get_data(as_text=True)
    pdf = lead_client.get(f"/app/groups/{group.id}/sheet.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_the_calendar_link_is_the_apis(client, db, lead_client, programme):
    lead = programme["lead"]
    html = lead_client.get("/app/calendar").get_data(as_text=True)
    link = api(client, db, f"/api/v1/facilitators/{lead.id}/calendar-link", "facilitator", lead.id).json[
        "url"
    ]
    assert link.replace("&", "&amp;") in html and "webcal://" in html


def test_pages_and_api_show_a_facilitator_the_same_things(client, db, lead_client, other_client, programme):
    for page_client, lead in ((lead_client, programme["lead"]), (other_client, programme["other"])):
        listed = api(client, db, "/api/v1/alerts", "facilitator", lead.id).json
        shown = ids_on(page_client.get("/app/alerts").data, "data-alert-id")
        shown |= ids_on(page_client.get("/app/outreach").data, "data-alert-id")
        assert shown == {a["id"] for a in listed}
        groups = {g["id"] for g in api(client, db, "/api/v1/groups", "facilitator", lead.id).json}
        for group_id in (programme["group"].id, programme["theirs"].id):
            page = page_client.get(f"/app/groups/{group_id}").status_code
            call = api(client, db, f"/api/v1/groups/{group_id}", "facilitator", lead.id).status_code
            assert (page == 200) == (call == 200) == (group_id in groups)


def test_pages_and_api_show_a_coordinator_the_same_alerts(client, db, coordinator_client, programme):
    listed = {a["id"] for a in api(client, db, "/api/v1/alerts", "coordinator").json}
    shown = ids_on(coordinator_client.get("/app/alerts").data, "data-alert-id")
    shown |= ids_on(coordinator_client.get("/app/outreach").data, "data-alert-id")
    assert shown == listed == {a.id for a in programme["alerts"].values()}


def test_the_waitlist_filters(db, coordinator_client, make_member, programme):
    make_member(20, name="Eva Waiting", problem_area="role_dispute", language="es")
    html = coordinator_client.get("/app/console/waitlist?status=waitlisted&language=es").get_data(
        as_text=True
    )
    assert "Eva Waiting" in html and "Ana Diaz" not in html
    r = coordinator_client.get("/app/console/waitlist?problem_area=sadness")
    assert r.status_code == 422 and "problem_area" in r.get_data(as_text=True)


CSV_HEADER = "name,phone,timezone,language,problem_area\n"


def test_the_import_is_checked_first_with_errors_by_row(db, coordinator_client, programme):
    bad = CSV_HEADER + "Fay Ok,+13125550301,America/Chicago,en,grief\nGus Bad,12,Mars/Base,en,grief\n"
    before = db.session.query(Member).count()
    page = "/app/console/import"
    r = post(coordinator_client, page, {"text": bad}, page=page)
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'data-row="3"' in html and "phone" in html and "timezone" in html
    good = CSV_HEADER + "Fay Ok,+13125550301,America/Chicago,en,grief\n"
    dry = post(coordinator_client, page, {"text": good}, page=page)
    assert b"All 1 rows are valid" in dry.data and db.session.query(Member).count() == before
    done = post(coordinator_client, page, {"text": good, "confirm": "yes"}, page=page)
    assert done.headers["Location"] == "/app/console/waitlist"
    assert db.session.query(Member).count() == before + 1


def test_the_import_check_warns_of_a_language_with_no_catalogue(db, coordinator_client, programme):
    rows = CSV_HEADER + "Fay Ok,+13125550301,America/Chicago,fr,grief\n"
    page = "/app/console/import"
    dry = post(coordinator_client, page, {"text": rows}, page=page).get_data(as_text=True)
    assert "All 1 rows are valid" in dry and "1 rows in &#39;fr&#39;" in dry and "English" in dry


WEDNESDAY = [{"day": "wed", "start": "17:00", "end": "21:00"}]


def _waitlist(make_member, make_facilitator, n: int = 8):
    """Members free on Wednesdays, and a facilitator free then (the others lead Tuesday groups)."""
    make_facilitator(5, name="Wen Wednesday", availability=WEDNESDAY)
    for i in range(n):
        make_member(30 + i, name=f"Wait {i}", availability=WEDNESDAY)


def test_a_proposal_is_a_week_grid_members_move_and_it_commits(
    db, coordinator_client, make_member, make_facilitator, programme
):
    _waitlist(make_member, make_facilitator)
    form = {"first_session_date": "2027-03-02", "min_size": "3", "max_size": "5", "time_limit_s": "1"}
    page = "/app/console/proposals"
    r = post(coordinator_client, page, form, page=page)
    assert r.status_code == 303
    proposal = db.session.scalar(select(GroupProposal))
    grid = coordinator_client.get(r.headers["Location"]).get_data(as_text=True)
    assert '<th scope="col">Wed</th>' in grid and 'data-group-index="0"' in grid
    assert "Wen Wednesday" in grid and "grief" in grid
    member = proposal.result["groups"][0]["member_ids"][0]
    panel = coordinator_client.get(f"/app/console/proposals/{proposal.id}?move={member}")
    assert b"Move Wait" in panel.data
    moved = post(
        coordinator_client, f"{page}/{proposal.id}/move", {"member_id": member, "to_group": ""}, page=page
    )
    assert moved.status_code == 303
    db.session.expire_all()
    assert member in [u["member_id"] for u in db.session.get(GroupProposal, proposal.id).result["unplaced"]]
    grid = coordinator_client.get(f"{page}/{proposal.id}").get_data(as_text=True)
    assert "Taken out by a coordinator (1)" in grid
    committed = post(coordinator_client, f"{page}/{proposal.id}/commit", page=page)
    assert committed.headers["Location"] == "/app/console/groups"
    db.session.expire_all()
    assert db.session.get(GroupProposal, proposal.id).status == "committed"


def test_a_move_that_breaks_the_rules_says_why_and_changes_nothing(
    db, coordinator_client, make_member, make_facilitator, programme
):
    _waitlist(make_member, make_facilitator, 6)
    form = {"first_session_date": "2027-03-02", "min_size": "3", "max_size": "6", "time_limit_s": "1"}
    page = "/app/console/proposals"
    post(coordinator_client, page, form, page=page)
    proposal = db.session.scalar(select(GroupProposal))
    before = proposal.result
    member = next(m for g in before["groups"] for m in g["member_ids"])
    url = f"/app/console/proposals/{proposal.id}"
    r = coordinator_client.post(
        f"{url}/move",
        data={"csrf_token": csrf_token(coordinator_client, url), "member_id": member, "to_group": "7"},
        headers={"Referer": f"http://localhost{url}"},
    )
    assert r.status_code == 303 and r.headers["Location"] == url
    assert b"no such group" in coordinator_client.get(url).data
    db.session.expire_all()
    assert db.session.get(GroupProposal, proposal.id).result == before


def test_a_coordinator_moves_and_cancels_sessions_on_the_timeline(db, coordinator_client, programme):
    group, later = programme["group"], programme["sessions"][3]
    html = coordinator_client.get(f"/app/groups/{group.id}").get_data(as_text=True)
    assert "<svg" in html and "sessions by phase" in html and "Move or cancel session 3" in html
    page = f"/app/groups/{group.id}"
    r = post(
        coordinator_client,
        f"/app/sessions/{later.id}/move",
        {"local_date": "2026-12-02", "local_start": "18:30"},
        page=page,
    )
    assert r.status_code == 303
    db.session.expire_all()
    assert later.local_date.isoformat() == "2026-12-02" and later.local_start == "18:30"
    post(coordinator_client, f"/app/sessions/{later.id}/cancel", {"shift": "yes"}, page=page)
    db.session.expire_all()
    assert db.session.query(AuditEntry).filter_by(action="session.cancel").count() == 1


def test_a_facilitator_sees_the_timeline_without_the_controls(lead_client, programme):
    html = lead_client.get(f"/app/groups/{programme['group'].id}").get_data(as_text=True)
    assert "<svg" in html and "Move or cancel" not in html


def test_the_outcomes_page_draws_charts_and_tables(coordinator_client, programme):
    html = coordinator_client.get("/app/console/outcomes").get_data(as_text=True)
    assert html.count('<svg class="chart"') == 3 and "Response" in html and "Tuesday grief" in html
    csv = coordinator_client.get("/app/console/outcomes.csv")
    assert csv.mimetype == "text/csv" and csv.get_data(as_text=True).lstrip("\ufeff").startswith(
        "scope,group_id"
    )


def test_console_counts(coordinator_client, programme, make_member):
    make_member(40, **{k: v for k, v in member_data(40).items() if k != "phone"})
    html = coordinator_client.get("/app/console").get_data(as_text=True)
    assert "<strong>1</strong> waiting" in html and "<strong>4</strong> open alerts" in html


def test_a_stale_session_page_after_sign_out_sends_the_script_a_401(lead_client, programme):
    post(lead_client, "/app/signout", page="/app/")
    session = programme["sessions"][2]
    r = lead_client.post(f"/app/sessions/{session.id}/attendance", data={}, headers=FETCH)
    assert r.status_code in (400, 401)


def test_a_page_that_does_not_exist_says_so_as_a_page_and_the_api_keeps_its_json(client, lead_client):
    for who in (client, lead_client):
        answer = who.get("/app/no-such-page")
        assert answer.status_code == 404 and answer.mimetype == "text/html"
        assert "<html" in answer.get_data(as_text=True)
    answer = lead_client.get("/api/v1/no-such-route")
    assert answer.status_code == 404 and answer.get_json()["code"] == 404
