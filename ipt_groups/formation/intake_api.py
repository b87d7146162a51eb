"""Invitations and seats: who was offered a seat in which group, and what became of it."""

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ipt_groups.api.access import coordinator, coordinators_only
from ipt_groups.api.clock import now
from ipt_groups.api.fields import Id, JsonBool
from ipt_groups.api.pages import paginate_query
from ipt_groups.extensions import db
from ipt_groups.formation import invitations, seats
from ipt_groups.models import Group, Invitation, Member
from ipt_groups.models.intake import INVITATION_STATUSES

bp = Blueprint("intake", __name__, url_prefix="/api/v1", description="Invitations and seats")
bp.before_request(coordinators_only)


class InvitationSchema(Schema):
    id = fields.Int()
    group_id = fields.Int()
    member_id = fields.Int()
    status = fields.Str(metadata={"description": ", ".join(INVITATION_STATUSES)})
    offered_at = fields.AwareDateTime()
    deadline_at = fields.AwareDateTime()
    first_session_at = fields.AwareDateTime()
    responded_at = fields.AwareDateTime(allow_none=True)
    reason = fields.Str(allow_none=True)
    replaces_id = fields.Int(allow_none=True)
    proposal_id = fields.Int(allow_none=True)
    created_by = fields.Str()


class InvitationQueryArgs(Schema):
    group_id = Id()
    member_id = Id()
    status = fields.Str(validate=validate.OneOf(INVITATION_STATUSES))


class SeatSchema(Schema):
    invitation_id = fields.Int()
    member_id = fields.Int()
    name = fields.Str(metadata={"description": "first name"})
    state = fields.Str(metadata={"description": ", ".join(seats.SEAT_STATES.values())})
    offered_at = fields.AwareDateTime()
    deadline_at = fields.AwareDateTime()
    responded_at = fields.AwareDateTime(allow_none=True)
    reason = fields.Str(allow_none=True)
    offered_next_to = fields.Int(allow_none=True, metadata={"description": "whom the seat went to next"})


class SeatsSchema(Schema):
    group_id = fields.Int()
    max_size = fields.Int()
    min_size = fields.Int(allow_none=True)
    enrolled = fields.Int()
    open = fields.Int(metadata={"description": "seats neither taken nor offered"})
    taking_members = fields.Bool(metadata={"description": "false once started past its late-join limit"})
    counts = fields.Dict(keys=fields.Str(), values=fields.Int())
    seats = fields.List(fields.Nested(SeatSchema))


class InviteArgs(Schema):
    member_id = Id(required=True)


class AnswerArgs(Schema):
    accept = JsonBool(required=True, metadata={"description": "the member's answer, taken by phone"})


@bp.route("/groups/<int:group_id>/seats", methods=["GET"])
@bp.response(200, SeatsSchema)
def group_seats(group_id):
    """The group's seats: accepted, waiting for an answer, declined or unanswered (and offered next to
    whom), taken by someone else first, and how many are open."""
    return seats.seats(Group.get_or_404(group_id), now())


@bp.route("/groups/<int:group_id>/invitations", methods=["POST"])
@bp.arguments(InviteArgs)
@bp.response(201, InvitationSchema)
def invite(data, group_id):
    """Offer an open seat to a waitlisted member (409: the group takes no one; 422: they do not suit it)."""
    invitation = invitations.invite_by_hand(
        Group.get_or_404(group_id), Member.get_or_404(data["member_id"]), coordinator().actor, now()
    )
    db.session.commit()
    return invitation


@bp.route("/invitations", methods=["GET"])
@bp.arguments(InvitationQueryArgs, location="query")
@bp.response(200, InvitationSchema(many=True))
@bp.paginate()
def list_invitations(filters, pagination_parameters):
    """Invitations, newest first (filters group_id, member_id, status)."""
    return paginate_query(seats.invitation_query(filters), pagination_parameters)


@bp.route("/invitations/<int:invitation_id>/answer", methods=["POST"])
@bp.arguments(AnswerArgs)
@bp.response(200, InvitationSchema)
def answer(data, invitation_id):
    """Record a member's answer taken by phone, as if they had texted YES or NO (409 once it is closed)."""
    invitation = invitations.answer_by_hand(
        Invitation.get_or_404(invitation_id), data["accept"], coordinator().actor, now()
    )
    db.session.commit()
    return invitation
