"""In a real browser, as people would: a facilitator signs in with the code texted to them and records
attendance on a 360 px phone; acknowledges an alert; a coordinator imports a CSV after a dry run and
commits a proposal after moving a member. Every page is screenshotted and checked with axe-core."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from ipt_groups.cycles.operations import start_cycle
from ipt_groups.extensions import db as _db
from ipt_groups.groups.operations import enrol_member
from ipt_groups.models import Alert, AttendanceRecord, Coordinator, GroupProposal, Member, Rsvp
from tests.conftest import NOW

WEDNESDAY = [{"day": "wed", "start": "17:00", "end": "21:00"}]
THURSDAY = [{"day": "thu", "start": "10:00", "end": "12:30"}]


@pytest.fixture
def group(db, make_facilitator, make_member, make_group):
    """A Tuesday group of four whose cycle started 2026-11-17 (session 2, on 24 Nov, has been held),
    replies to its reminder, and a safety alert about one member."""
    lead = make_facilitator(0, name="Fatima Okafor")
    group = make_group(lead.id, name="Tuesday evening group")
    members = [
        make_member(i, name=n) for i, n in enumerate(("Ana Diaz", "Bea Lund", "Cruz Ortega", "Dee Park"))
    ]
    for m in members:
        enrol_member(group, m, {}, "test", NOW - timedelta(days=14))
    start_cycle(group, {"first_date": date(2026, 11, 17)}, "test", NOW - timedelta(days=14))
    session = next(s for s in _sessions(group) if s.number == 2)
    db.session.add_all(
        [
            Rsvp(session_id=session.id, member_id=members[0].id, response="confirm", responded_at=NOW),
            Rsvp(session_id=session.id, member_id=members[2].id, response="decline", responded_at=NOW),
            Alert(
                kind="safety",
                member_id=members[1].id,
                group_id=group.id,
                created_at=NOW,
                notified=[],
                detail={"source": "crisis_text"},
                next_escalation_at=NOW + timedelta(minutes=30),
            ),
        ]
    )
    db.session.commit()
    return {"lead": lead, "group": group, "members": members, "session": session}


def _sessions(group):
    from ipt_groups.cycles.operations import cycle_sessions

    return cycle_sessions(group)


def test_a_facilitator_signs_in_with_a_texted_code_and_records_attendance_on_a_phone(pages, group):
    pages.sign_in_by_code(group["lead"].phone)
    assert pages.path == "/app/"
    assert pages.fits_the_phone() and pages.axe() == []
    pages.shot("01-facilitator-home")
    pages.find(f'li[data-session-id="{group["session"].id}"] a').click()
    pages.wait_for_path(f"/app/sessions/{group['session'].id}")
    assert "Confirmed" in pages.find("main").text and "Can't come" in pages.find("main").text
    assert pages.fits_the_phone() and pages.axe() == []
    pages.driver.execute_script("window.samePage = true")  # a full reload would forget this
    ana = group["members"][0]
    pages.find(f"#marks-{ana.id} button.mark.present").click()
    pages.wait(lambda: "Saved: present" in pages.find(f"#marks-{ana.id}").text)
    pages.find(f"#marks-{ana.id} button.mark.late").click()  # a correction
    pages.wait(lambda: "Saved: late" in pages.find(f"#marks-{ana.id}").text)
    assert pages.find(f"#marks-{ana.id} button.mark.late").get_attribute("aria-pressed") == "true"
    assert pages.driver.execute_script("return window.samePage") is True
    pages.shot("session-page", docs=True)
    _db.session.expire_all()
    record = _db.session.scalar(select(AttendanceRecord).filter_by(member_id=ana.id))
    assert record.status == "late" and record.recorded_by.startswith("facilitator:Fatima Okafor#web")
    pages.find("main p a").click()  # the group's page: its cycle on a timeline
    pages.wait(lambda: pages.find_all("svg.chart"))
    assert pages.fits_the_phone() and pages.axe() == []
    pages.shot("03-group-timeline")


def test_a_facilitator_acknowledges_an_alert(pages, group):
    pages.sign_in_by_code(group["lead"].phone)
    pages.open("/app/alerts")
    alert = _db.session.scalar(select(Alert))
    card = pages.find(f'li[data-alert-id="{alert.id}"]')
    assert group["members"][1].phone in card.text and "Escalation level 0" in card.text
    assert pages.fits_the_phone() and pages.axe() == []
    pages.shot("02-facilitator-alerts")
    pages.type(f"#note-{alert.id}", "Called Bea, she is safe tonight")
    card.find_element("css selector", "button[type=submit]").click()
    pages.wait(lambda: not pages.find_all(f'li[data-alert-id="{alert.id}"]'))
    _db.session.expire_all()
    acked = _db.session.get(Alert, alert.id)
    assert acked.acknowledged_at is not None and acked.detail["ack_note"] == "Called Bea, she is safe tonight"


@pytest.fixture
def coordinator(db):
    person = Coordinator(name="Cora Mendes", phone="+12025550777", timezone="America/Chicago")
    db.session.add(person)
    db.session.commit()
    return person


def _csv(tmp_path, name: str, rows: list[str]):
    path = tmp_path / name
    path.write_text("name,phone,timezone,language,problem_area,availability\n" + "\n".join(rows) + "\n")
    return str(path)


def test_a_coordinator_imports_a_csv_after_a_dry_run(pages, coordinator, tmp_path):
    pages.driver.set_window_size(1024, 800)
    pages.sign_in_by_code(coordinator.phone)
    assert pages.path == "/app/console"
    pages.shot("04-console")
    pages.open("/app/console/import")
    bad = ["Ida Bell,+13125550301,America/Chicago,en,grief,tue 17:00-21:00", "Jo Bad,12,Mars/Base,en,grief,"]
    pages.find("#file").send_keys(_csv(tmp_path, "bad.csv", bad))
    pages.find("main form button[type=submit]").click()
    pages.wait(lambda: pages.find_all("tr[data-row]"))
    assert [r.get_attribute("data-row") for r in pages.find_all("tr[data-row]")] == ["3"]
    assert pages.axe() == []
    pages.shot("05-import-errors")
    assert _db.session.query(Member).count() == 0
    good = [bad[0], "Kai Moss,+13125550302,America/New_York,es,grief,tue 18:00-21:00"]
    pages.find("#file").send_keys(_csv(tmp_path, "good.csv", good))
    pages.find("main form button[type=submit]").click()
    pages.wait(lambda: "All 2 rows are valid" in pages.find("main").text)
    assert _db.session.query(Member).count() == 0  # a dry run writes nothing
    pages.shot("06-import-checked")
    pages.find("main form button[type=submit]").click()
    pages.wait_for_path("/app/console/waitlist")
    assert "Kai Moss" in pages.find("main").text and pages.axe() == []
    assert _db.session.query(Member).count() == 2


def test_a_coordinator_moves_a_member_and_commits_a_proposal(
    pages, coordinator, make_facilitator, make_member
):
    names = iter(
        ["Ama", "Ben", "Cai", "Dov", "Eli", "Fen", "Gus", "Hana", "Ivo", "Jun", "Kofi", "Lia", "Mo", "Noor"]
    )
    for i, (area, days) in enumerate((("grief", WEDNESDAY), ("role_dispute", THURSDAY))):
        lead = ("Rosa Lima", "Sam Idowu")[i]
        make_facilitator(10 + i, name=lead, availability=days, problem_areas=[area])
        for j in range(7):
            person = f"{next(names)} {'KT'[i]}."
            make_member(100 + 10 * i + j, name=person, problem_area=area, availability=days)
    make_member(200, name="Nia Nofree", availability=[])
    pages.driver.set_window_size(1024, 800)
    pages.sign_in_by_code(coordinator.phone)
    pages.open("/app/console/proposals")
    pages.set_value("#first_session_date", "2027-03-03")
    pages.type("#min_size", "5")
    pages.type("#time_limit_s", "1")
    pages.find("main form button[type=submit]").click()
    pages.wait(lambda: pages.path.startswith("/app/console/proposals/"))
    assert len(pages.find_all(".group-card")) == 2 and "No availability given (1)" in pages.find("main").text
    assert pages.axe() == []
    pages.shot("proposal-grid", docs=True)
    first = pages.find('.group-card[data-group-index="0"] a[data-member-id]')
    moved = int(first.get_attribute("data-member-id"))
    first.click()
    pages.wait(lambda: pages.find_all("#move"))
    from selenium.webdriver.support.ui import Select

    Select(pages.find("#to_group")).select_by_value("")
    pages.find("#move button[type=submit]").click()
    pages.wait(lambda: "Taken out by a coordinator (1)" in pages.find("main").text)
    pages.shot("07-proposal-after-move")
    pages.find('form[action$="/commit"] button').click()
    pages.wait_for_path("/app/console/groups")
    assert len(pages.find_all("tr[data-group-id]")) == 2 and pages.axe() == []
    pages.shot("08-groups")
    proposal = _db.session.scalar(select(GroupProposal))
    _db.session.refresh(proposal)
    assert proposal.status == "committed"
    assert _db.session.get(Member, moved).status == "waitlisted"
    pages.find("tr[data-group-id] a").click()
    pages.wait(lambda: pages.path.startswith("/app/groups/"))
    assert "No cycle yet" in pages.find("main").text and pages.axe() == []
    pages.shot("09-new-group")
    pages.open("/app/console/outcomes")
    assert len(pages.find_all("svg.chart")) == 3 and pages.axe() == []
    pages.shot("10-outcomes")
