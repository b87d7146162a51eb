"""Groups: made by hand (or from a proposal), their members; facilitators see their own."""

from flask.views import MethodView
from flask_smorest import Blueprint

from ipt_groups.api.access import coordinator, coordinators_change, may_see_group, scope
from ipt_groups.api.clock import now
from ipt_groups.api.pages import paginate_query
from ipt_groups.extensions import db
from ipt_groups.groups import operations
from ipt_groups.groups.schemas import (
    EnrolArgs,
    EnrolmentSchema,
    GroupArgs,
    GroupPatchArgs,
    GroupQueryArgs,
    GroupSchema,
)
from ipt_groups.models import Group, Member

bp = Blueprint("groups", __name__, url_prefix="/api/v1/groups", description="Groups and their members")
bp.before_request(coordinators_change)


@bp.route("")
class Groups(MethodView):
    @bp.arguments(GroupQueryArgs, location="query")
    @bp.response(200, GroupSchema(many=True))
    @bp.paginate()
    def get(self, filters, pagination_parameters):
        """List groups; a facilitator's token lists only their own."""
        query = operations.list_groups(filters, scope())
        return paginate_query(query, pagination_parameters)

    @bp.arguments(GroupArgs)
    @bp.response(201, GroupSchema)
    def post(self, data):
        """Create a group by hand."""
        group = operations.create_group(data, coordinator().actor, now())
        db.session.commit()
        return group


@bp.route("/<int:group_id>")
class GroupById(MethodView):
    @bp.response(200, GroupSchema)
    def get(self, group_id):
        """One group with its current members."""
        group = Group.get_or_404(group_id)
        may_see_group(group.facilitator_id)
        return group

    @bp.arguments(GroupPatchArgs(partial=True))
    @bp.response(200, GroupSchema)
    def patch(self, changes, group_id):
        """Change a group's name, slot, size or facilitator."""
        who = coordinator()
        group = operations.update_group(Group.get_or_404(group_id), changes, who.actor, now())
        db.session.commit()
        return group


@bp.route("/<int:group_id>/members/<int:member_id>")
class GroupMember(MethodView):
    @bp.arguments(EnrolArgs, required=False)
    @bp.response(201, EnrolmentSchema)
    def post(self, options, group_id, member_id):
        """Add a waitlisted member to the group."""
        who = coordinator()
        group, member = Group.get_or_404(group_id), Member.get_or_404(member_id)
        enrolment = operations.enrol_member(group, member, options or {}, who.actor, now())
        db.session.commit()
        return enrolment

    @bp.response(204)
    def delete(self, group_id, member_id):
        """Take a member out of the group; they return to the waitlist."""
        operations.remove_member(group_id, member_id, coordinator().actor, now())
        db.session.commit()
