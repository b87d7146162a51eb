"""Group proposals: the engine forms groups from the waitlist; a coordinator reviews, edits, commits."""

from flask.views import MethodView
from flask_smorest import Blueprint

from ipt_groups.api.access import coordinator, coordinators_only
from ipt_groups.api.clock import now
from ipt_groups.extensions import db
from ipt_groups.formation import proposals
from ipt_groups.formation.schemas import EditArgs, ProposalSchema, ProposeArgs
from ipt_groups.models import GroupProposal

bp = Blueprint("proposals", __name__, url_prefix="/api/v1/group-proposals", description="Group formation")
bp.before_request(coordinators_only)


@bp.route("", methods=["POST"])
@bp.arguments(ProposeArgs)
@bp.response(201, ProposalSchema)
def propose(data):
    """Form groups from the waitlist (optionally filtered) and store the proposal for review."""
    proposal = proposals.propose(
        _policy(data["policy"]), data["member_filter"], coordinator().actor, now(), data["fill_open_seats"]
    )
    db.session.commit()
    return proposal


def _policy(policy: dict) -> dict:
    return {**policy, "first_session_date": policy["first_session_date"].isoformat()}


@bp.route("/<int:proposal_id>")
class ProposalById(MethodView):
    @bp.response(200, ProposalSchema)
    def get(self, proposal_id):
        """One proposal: groups, unplaced members with reasons, stats."""
        return GroupProposal.get_or_404(proposal_id)

    @bp.arguments(EditArgs)
    @bp.response(200, ProposalSchema)
    def patch(self, change, proposal_id):
        """Edit the proposal; every changed group is checked against the grouping rules."""
        who = coordinator()
        proposal = proposals.edit(GroupProposal.get_or_404(proposal_id), change, who.actor)
        db.session.commit()
        return proposal


@bp.route("/<int:proposal_id>/commit", methods=["POST"])
@bp.response(200, ProposalSchema)
def commit(proposal_id):
    """Create the groups and invite every member (new groups and open seats) in one transaction; 409
    if members, facilitators or open seats changed."""
    who = coordinator()
    proposal = proposals.commit(GroupProposal.get_or_404(proposal_id), who.actor, now())
    db.session.commit()
    return proposal
