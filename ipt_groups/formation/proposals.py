"""Group formation over the database: build the engine's planning document from the waitlist,
store its proposal, let a coordinator edit it under the same rules, and commit it in one
transaction unless members or facilitators changed since. Open seats in groups that exist already
are filled first (rolling intake); committing creates the new groups and invites every member
(invitations.py), who accepts or declines by SMS."""

from __future__ import annotations

import copy
import re
from collections import defaultdict
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from ipt_groups.audit import record_change, snapshot
from ipt_groups.errors import Conflict, InvalidInput
from ipt_groups.extensions import db
from ipt_groups.formation import engine, invitations
from ipt_groups.formation.engine.fill import OpenGroup, fill_open_groups
from ipt_groups.formation.waitlist import formable, member_doc, screening_mode
from ipt_groups.groups.operations import ACTIVE_GROUP_STATUSES, create_group
from ipt_groups.models import Facilitator, Group, GroupProposal, Member


def _facilitator_doc(f: Facilitator, leading: list[Group]) -> dict:
    return {
        "id": f.id,
        "timezone": f.timezone,
        "languages": f.languages,
        "problem_areas": f.problem_areas,
        "max_groups": f.max_groups,
        "availability": f.availability,
        "existing_groups": [_existing_doc(g) for g in leading],
    }


def _existing_doc(g: Group) -> dict:
    """A group the facilitator leads, as commit sees it: meeting every week (no dates), whatever dates
    its cycle has, since commit refuses a new group whose weekly slot ever overlaps it."""
    return {
        "id": g.id,
        "day": g.day,
        "start": g.start_time,
        "timezone": g.timezone,
        "session_minutes": g.session_minutes,
        "status": g.status,
    }


def planning_document(policy: dict, member_filter: dict) -> tuple[dict, dict]:
    """The engine's input from the waitlist, and the fingerprint that tells if it went stale. Each
    facilitator comes with the groups they lead (forming, scheduled or running), which count toward
    max_groups and rule out overlapping times; one with no room left is left out. Members are those
    formation may place (waitlist.py: screened as `member_filter.screening` or the programme asks,
    holding no offer, not waiting for a human after a screen)."""
    mode = screening_mode(member_filter.get("screening"))
    query = formable(select(Member), mode).order_by(Member.id)
    for key in ("problem_area", "language"):
        if key in member_filter:
            query = query.where(getattr(Member, key) == member_filter[key])
    if member_filter.get("member_ids"):
        query = query.where(Member.id.in_(member_filter["member_ids"]))
    members = list(db.session.scalars(query))
    leading: dict[int, list[Group]] = defaultdict(list)
    active = select(Group).where(Group.status.in_(ACTIVE_GROUP_STATUSES)).order_by(Group.id)
    for group in db.session.scalars(active):
        leading[group.facilitator_id].append(group)
    facilitators = [
        f
        for f in db.session.scalars(select(Facilitator).order_by(Facilitator.id))
        if f.max_groups > len(leading[f.id])
    ]
    doc = {
        "policy": policy,
        "members": [member_doc(m) for m in members],
        "facilitators": [_facilitator_doc(f, leading[f.id]) for f in facilitators],
    }
    fingerprint = {
        "members": {str(m.id): m.updated_at.isoformat() for m in members},
        "facilitators": {str(f.id): f.updated_at.isoformat() for f in facilitators},
    }
    return doc, fingerprint


def parse_or_refuse(doc: dict) -> engine.PlanningInput:
    """The engine's validation, as a 422 whose field paths name member and facilitator ids."""
    try:
        return engine.parse_input(doc)
    except engine.GroupingInputError as exc:
        raise InvalidInput("the waitlist cannot be planned as asked", _by_id(doc, exc.errors)) from exc


def _by_id(doc: dict, errors: dict) -> dict:
    def rename(path: str) -> str:
        match = re.match(r"^(members|facilitators)\[(\d+)\](.*)$", path)
        if not match or int(match.group(2)) >= len(doc.get(match.group(1)) or []):
            return path or "policy"
        kind, index, rest = match.groups()
        return f"{kind}[id={doc[kind][int(index)]['id']}]{rest}"

    return {rename(path): messages for path, messages in errors.items()}


def refuse_past_start(first_session_date: date, now: datetime) -> None:
    """A first session date must come after today in the programme's timezone: a proposal is reviewed,
    committed and its members told before the first session, and a slot today may have passed."""
    tz = current_app.config["PROGRAMME_TIMEZONE"]
    today = now.astimezone(ZoneInfo(tz)).date()
    if first_session_date <= today:
        raise InvalidInput(
            "the first session date must be after today",
            {"policy.first_session_date": [f"{first_session_date} is not after today ({today} in {tz})"]},
        )


def propose(
    policy: dict, member_filter: dict, actor: str, now: datetime, fill_open_seats: bool = True
) -> GroupProposal:
    """Fill open seats in existing groups, run the engine over the rest of the waitlist, and store the
    proposal for review: `fills` (seats in existing groups) and `groups` (new ones)."""
    doc, fingerprint = planning_document(policy, member_filter)
    inp = parse_or_refuse(doc)
    refuse_past_start(inp.policy.first_session_date, now)
    fills = _fills(inp, now) if fill_open_seats else []
    result = _new_groups(doc, {m for f in fills for m in f["member_ids"]})
    result["fills"] = fills
    result["stats"]["filled_seats"] = sum(len(f["member_ids"]) for f in fills)
    proposal = GroupProposal(
        status="draft",
        document=doc,
        result=result,
        fingerprint=fingerprint,
        created_by=actor,
        created_at=now,
        group_ids=[],
    )
    db.session.add(proposal)
    db.session.flush()
    record_change(actor, "proposal.create", proposal, None, {"stats": result["stats"]})
    return proposal


def _fills(inp: engine.PlanningInput, now: datetime) -> list[dict]:
    """Seats in existing groups (not started, or before their late-join limit) for waitlisted members."""
    found: dict[int, tuple[Group, OpenGroup]] = {}
    for group in db.session.scalars(select(Group).where(Group.status.in_(ACTIVE_GROUP_STATUSES))):
        if (seen := invitations.open_group(group, now)) is not None and seen.seats > 0:
            found[group.id] = (group, seen)
    chosen = fill_open_groups([g for _, g in found.values()], list(inp.members), inp.policy.match_on)
    return [_fill_document(*found[group_id], ids) for group_id, ids in sorted(chosen.items())]


def _fill_document(group: Group, seen: OpenGroup, member_ids: list) -> dict:
    return {
        "kind": "existing",
        "group_id": group.id,
        "member_ids": member_ids,
        "day": group.day,
        "start": group.start_time,
        "timezone": group.timezone,
        "first_session": seen.starts[0].astimezone(ZoneInfo(group.timezone)).isoformat(),
        "seats_open": seen.seats,
        "size": len(member_ids),
    }


def _new_groups(doc: dict, filled: set) -> dict:
    """The engine's new groups for the members no open seat took."""
    rest = [m for m in doc["members"] if m["id"] not in filled]
    if not rest:
        stats = {"members": 0, "placed": 0, "unplaced": 0, "groups": 0, "unplaced_by_reason": {}}
        return {"groups": [], "unplaced": [], "stats": stats}
    result = engine.propose_groups(parse_or_refuse({**doc, "members": rest}))
    for group in result["groups"]:
        group["kind"] = "new"
    return result


def edit(proposal: GroupProposal, change: dict, actor: str) -> GroupProposal:
    """Move a member, drop a group or change a facilitator; every changed group must stay valid."""
    _check_draft(proposal)
    inp = parse_or_refuse(proposal.document)
    result = copy.deepcopy(proposal.result)
    touched = _EDITS[change["op"]](result, change, inp)
    problems = {
        f"groups[{i}]": found
        for i in touched
        if (found := engine.check_group(inp, result["groups"][i], _others(result, i)))
    }
    if problems:
        raise InvalidInput("the edit breaks the grouping rules", problems)
    result["groups"] = [g for g in result["groups"] if g is not None]
    _recount(result)
    before = {"stats": proposal.result["stats"]}
    proposal.result = result
    db.session.flush()
    record_change(
        actor, f"proposal.{change['op']}", proposal, before, {"change": change, "stats": result["stats"]}
    )
    return proposal


def _check_draft(proposal: GroupProposal) -> None:
    if proposal.status != "draft":
        raise Conflict("proposal closed", {"status": [f"the proposal is {proposal.status}"]})


def _others(result: dict, i: int) -> list[dict]:
    return [g for j, g in enumerate(result["groups"]) if j != i and g is not None]


def _group_index(result: dict, index, field: str) -> int:
    if not isinstance(index, int) or not 0 <= index < len(result["groups"]):
        raise InvalidInput(
            "no such group", {field: [f"the proposal has groups 0-{len(result['groups']) - 1}"]}
        )
    return index


def _move_member(result: dict, change: dict, inp) -> list[int]:
    member_id = change["member_id"]
    if member_id not in inp.member_by_id:
        raise InvalidInput("unknown member", {"member_id": [f"member {member_id} is not in this proposal"]})
    source = next((i for i, g in enumerate(result["groups"]) if member_id in g["member_ids"]), None)
    target = change.get("to_group")
    if source is not None:
        result["groups"][source]["member_ids"].remove(member_id)
    for fill in result.get("fills", []):
        if member_id in fill["member_ids"]:
            fill["member_ids"].remove(member_id)
    result["unplaced"] = [u for u in result["unplaced"] if u["member_id"] != member_id]
    if target is None:
        result["unplaced"].append(
            {
                "member_id": member_id,
                "reason": "removed_by_coordinator",
                "detail": "taken out of the proposal by a coordinator",
            }
        )
        return [source] if source is not None else []
    target = _group_index(result, target, "to_group")
    result["groups"][target]["member_ids"].append(member_id)
    return [i for i in (source, target) if i is not None]


def _drop_group(result: dict, change: dict, inp) -> list[int]:
    index = _group_index(result, change.get("group"), "group")
    for member_id in result["groups"][index]["member_ids"]:
        result["unplaced"].append(
            {
                "member_id": member_id,
                "reason": "group_dropped",
                "detail": "their proposed group was dropped by a coordinator",
            }
        )
    result["groups"][index] = None
    return []


def _set_facilitator(result: dict, change: dict, inp) -> list[int]:
    index = _group_index(result, change.get("group"), "group")
    result["groups"][index]["facilitator_id"] = change["facilitator_id"]
    return [index]


_EDITS = {"move_member": _move_member, "drop_group": _drop_group, "set_facilitator": _set_facilitator}


def _recount(result: dict) -> None:
    placed = sum(len(g["member_ids"]) for g in result["groups"])
    for g in result["groups"]:
        g["size"] = len(g["member_ids"])
    fills = result.get("fills", [])
    for fill in fills:
        fill["size"] = len(fill["member_ids"])
    result["fills"] = [f for f in fills if f["member_ids"]]
    result["stats"] = {
        **result["stats"],
        "filled_seats": sum(f["size"] for f in result["fills"]),
        "placed": placed,
        "unplaced": len(result["unplaced"]),
        "groups": len(result["groups"]),
    }


def commit(proposal: GroupProposal, actor: str, now: datetime) -> GroupProposal:
    """Create every proposed group and invite every member (to a new group or an open seat) in one
    transaction; 409 if the proposal is stale."""
    _check_draft(proposal)
    _refuse_if_stale(proposal)
    policy = proposal.document.get("policy") or {}
    for fill in proposal.result.get("fills", []):
        _invite_to_existing(fill, proposal, actor, now)
    created = [
        _create(g, i, policy, proposal, actor, now) for i, g in enumerate(proposal.result["groups"], start=1)
    ]
    before = snapshot(proposal)
    proposal.status, proposal.committed_at, proposal.group_ids = "committed", now, [g.id for g in created]
    db.session.flush()
    record_change(
        actor, "proposal.commit", proposal, {"status": before["status"]}, {"group_ids": proposal.group_ids}
    )
    return proposal


def _refuse_if_stale(proposal: GroupProposal) -> None:
    """409 when a member or facilitator changed since the proposal, or a member it places received an
    offer since (a seat freed elsewhere went to them)."""
    result = proposal.result
    placed = {m for g in [*result["groups"], *result.get("fills", [])] for m in g["member_ids"]}
    changed = []
    for kind, model in (("members", Member), ("facilitators", Facilitator)):
        seen = proposal.fingerprint[kind]
        rows = {
            str(r.id): r
            for r in db.session.scalars(select(model).where(model.id.in_([int(i) for i in seen])))
        }
        for key, stamp in seen.items():
            row = rows.get(key)
            if (
                row is None
                or row.updated_at.isoformat() != stamp
                or getattr(row, "status", "waitlisted") != "waitlisted"
                or (kind == "members" and row.id in placed and invitations.open_invitation(row.id))
            ):
                changed.append(f"{kind[:-1]} {key}")
    if changed:
        raise Conflict("the proposal is stale: propose again", {"changed_since": changed})


def _invite_to_existing(fill: dict, proposal: GroupProposal, actor: str, now: datetime) -> None:
    """Invite the members a fill chose, if the group still has those seats open (409 otherwise)."""
    group = Group.get_or_404(fill["group_id"])
    seen = invitations.open_group(group, now)
    if seen is None or seen.seats < len(fill["member_ids"]):
        raise Conflict("the proposal is stale: propose again", {"changed_since": [f"group {group.id}"]})
    for member_id in fill["member_ids"]:
        invitations.invite(group, Member.get_or_404(member_id), seen.starts[0], actor, now, proposal.id)


def _create(g: dict, number: int, policy: dict, proposal: GroupProposal, actor: str, now: datetime) -> Group:
    area = None if g.get("mixed_problem_areas") else g.get("problem_area")
    data = {
        "name": f"{g['day'].capitalize()} {g['start']} group {number}",
        "problem_area": area,
        "language": g["language"],
        "timezone": g["timezone"],
        "day": g["day"],
        "start_time": g["start"],
        "facilitator_id": g["facilitator_id"],
        "session_minutes": policy.get("session_minutes", 90),
        "max_size": policy.get("max_size", 10),
        "min_size": policy.get("min_size", 6),
        "first_session_date": date.fromisoformat(g["first_session"][:10]),
    }
    group = create_group(data, actor, now)
    first = datetime.fromisoformat(g["first_session"]).astimezone(UTC)
    for member_id in g["member_ids"]:
        invitations.invite(group, Member.get_or_404(member_id), first, actor, now, proposal.id)
    return group
