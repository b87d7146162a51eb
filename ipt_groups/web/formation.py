"""Forming groups in the console: ask the engine for a proposal, read it as a week grid with the
unplaced members by reason, move members between groups (the proposal's own edit, under the same
rules), and commit it. Coordinators only."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from ipt_groups.api.access import coordinator
from ipt_groups.api.clock import now
from ipt_groups.extensions import db
from ipt_groups.formation import proposals
from ipt_groups.formation.schemas import MemberFilterArgs
from ipt_groups.models import Facilitator, GroupProposal, Member
from ipt_groups.vocabulary import DAYS, PROBLEM_AREAS
from ipt_groups.web import forms, grid
from ipt_groups.web.blueprint import bp

LISTED = 20


@bp.route("/console/proposals", methods=["GET", "POST"])
def proposals_page():
    """Recent proposals, and the form that asks the engine for a new one from the waitlist."""
    who = coordinator()
    if request.method == "POST":
        member_filter = MemberFilterArgs().load(
            {k: request.form[k] for k in ("problem_area", "language") if request.form.get(k, "").strip()}
        )
        proposal = proposals.propose(forms.policy(request.form), member_filter, who.actor, now())
        db.session.commit()
        return redirect(url_for("web.proposal_page", proposal_id=proposal.id), 303)
    query = select(GroupProposal).order_by(GroupProposal.id.desc()).limit(LISTED)
    return render_template(
        "console/proposals.html", proposals=db.session.scalars(query).all(), areas=PROBLEM_AREAS
    )


@bp.route("/console/proposals/<int:proposal_id>")
def proposal_page(proposal_id):
    """The proposal as a week grid; `?move=<member id>` opens the panel that moves that member."""
    coordinator()
    proposal = GroupProposal.get_or_404(proposal_id)
    result = proposal.result
    fills = result.get("fills", [])
    ids = [m for g in [*result["groups"], *fills] for m in g["member_ids"]] + [
        u["member_id"] for u in result["unplaced"]
    ]
    names = dict(db.session.execute(select(Member.id, Member.name).where(Member.id.in_(ids))).all())
    people = {g["facilitator_id"] for g in result["groups"]}
    facilitators = dict(
        db.session.execute(select(Facilitator.id, Facilitator.name).where(Facilitator.id.in_(people))).all()
    )
    week = grid.week_grid(result["groups"])
    moving = request.args.get("move", "")
    return render_template(
        "console/proposal.html",
        proposal=proposal,
        fills=fills,
        week=week,
        days=DAYS,
        columns=grid.days_used(week),
        unplaced=grid.by_reason(result["unplaced"]),
        names=names,
        facilitators=facilitators,
        moving=int(moving) if moving.isdigit() and int(moving) in names else None,
        home={m: i for i, g in enumerate(result["groups"]) for m in g["member_ids"]},
    )


@bp.route("/console/proposals/<int:proposal_id>/move", methods=["POST"])
def proposal_move(proposal_id):
    """Move a member to another group or out of the proposal; the changed groups are checked."""
    who = coordinator()
    change = forms.proposal_move(request.form)
    proposals.edit(GroupProposal.get_or_404(proposal_id), change, who.actor)
    db.session.commit()
    flash("Moved.", "info")
    return redirect(url_for("web.proposal_page", proposal_id=proposal_id), 303)


@bp.route("/console/proposals/<int:proposal_id>/commit", methods=["POST"])
def proposal_commit(proposal_id):
    """Create every proposed group and invite every member in one transaction (refused if stale)."""
    who = coordinator()
    proposal = proposals.commit(GroupProposal.get_or_404(proposal_id), who.actor, now())
    db.session.commit()
    invited = sum(
        len(g["member_ids"]) for g in [*proposal.result["groups"], *proposal.result.get("fills", [])]
    )
    flash(f"Committed: {len(proposal.group_ids)} groups created, {invited} members invited.", "info")
    return redirect(url_for("web.groups"), 303)
