"""Members (the waitlist and everyone in a group), facilitators (the roster) and coordinators (with the
phones alerts escalate to): coordinators only."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from ipt_groups.api.access import coordinator, coordinators_only
from ipt_groups.api.clock import now
from ipt_groups.api.pages import paginate_query
from ipt_groups.errors import InvalidInput
from ipt_groups.extensions import db
from ipt_groups.models import Coordinator, Facilitator, Member
from ipt_groups.people import coordinators, roster
from ipt_groups.people.schemas import (
    CoordinatorArgs,
    CoordinatorPatchArgs,
    CoordinatorSchema,
    FacilitatorArgs,
    FacilitatorPatchArgs,
    FacilitatorQueryArgs,
    FacilitatorSchema,
    ImportArgs,
    ImportResultSchema,
    MemberArgs,
    MemberPatchArgs,
    MemberQueryArgs,
    MemberSchema,
)
from ipt_groups.people.waitlist_import import import_waitlist, import_warnings

members_bp = Blueprint(
    "members", __name__, url_prefix="/api/v1/members", description="The waitlist and members"
)
members_bp.before_request(coordinators_only)


@members_bp.route("")
class Members(MethodView):
    @members_bp.arguments(MemberQueryArgs, location="query")
    @members_bp.response(200, MemberSchema(many=True))
    @members_bp.paginate()
    def get(self, filters, pagination_parameters):
        """List members, longest-waiting first; filter by status, problem area, language, and
        `no_catalogue=true` for those whose language has no catalogue (their texts go in English)."""
        coordinator()
        return paginate_query(roster.list_members(filters), pagination_parameters)

    @members_bp.arguments(MemberArgs)
    @members_bp.response(201, MemberSchema)
    def post(self, data):
        """Add a member to the waitlist."""
        member = roster.create_member(data, coordinator().actor, now())
        db.session.commit()
        return member


@members_bp.route("/<int:member_id>")
class MemberById(MethodView):
    @members_bp.response(200, MemberSchema)
    def get(self, member_id):
        """One member."""
        coordinator()
        return Member.get_or_404(member_id)

    @members_bp.arguments(MemberPatchArgs(partial=True))
    @members_bp.response(200, MemberSchema)
    def patch(self, changes, member_id):
        """Change a member (any subset of fields)."""
        who = coordinator()
        member = roster.update_member(Member.get_or_404(member_id), changes, who.actor, now())
        db.session.commit()
        return member

    @members_bp.response(204)
    def delete(self, member_id):
        """Remove a member who has never been in a group."""
        who = coordinator()
        roster.delete_member(Member.get_or_404(member_id), who.actor)
        db.session.commit()


@members_bp.route("/import", methods=["POST"])
@members_bp.arguments(ImportArgs, location="query")
@members_bp.response(201, ImportResultSchema)
@members_bp.alt_response(
    200, schema=ImportResultSchema, description="A dry run: the file is valid; nothing written"
)
@members_bp.doc(
    requestBody={
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
            },
        }
    }
)
def import_members(args):
    """Import a waitlist from CSV (a `file` upload or a text/csv body); all rows or none."""
    who = coordinator()
    rows, members = import_waitlist(_csv_bytes(), args["dry_run"], who.actor, now())
    db.session.commit()
    result = {"dry_run": args["dry_run"], "rows": len(rows), "created": len(members), "members": members}
    return result | {"warnings": import_warnings(rows)}, 200 if args["dry_run"] else 201


def _csv_bytes() -> bytes:
    """The uploaded file as sent: its encoding is the import's to detect."""
    if request.mimetype not in ("multipart/form-data", "text/csv"):
        reason = f"is {request.mimetype or 'missing'!r}; send multipart/form-data (field 'file') or text/csv"
        abort(415, message="wrong content type", errors={"headers": {"Content-Type": [reason]}})
    upload = request.files.get("file")
    raw = upload.read() if upload else (request.get_data() if request.mimetype == "text/csv" else None)
    if raw is None:
        raise InvalidInput("no CSV", {"file": ["upload a CSV as form field 'file' or send a text/csv body"]})
    return raw


facilitators_bp = Blueprint(
    "facilitators", __name__, url_prefix="/api/v1/facilitators", description="Facilitators"
)
facilitators_bp.before_request(coordinators_only)


@facilitators_bp.route("")
class Facilitators(MethodView):
    @facilitators_bp.arguments(FacilitatorQueryArgs, location="query")
    @facilitators_bp.response(200, FacilitatorSchema(many=True))
    @facilitators_bp.paginate()
    def get(self, filters, pagination_parameters):
        """List facilitators; `no_catalogue=true` lists those whose texts fall back to English."""
        coordinator()
        return paginate_query(roster.list_facilitators(filters), pagination_parameters)

    @facilitators_bp.arguments(FacilitatorArgs)
    @facilitators_bp.response(201, FacilitatorSchema)
    def post(self, data):
        """Add a facilitator."""
        facilitator = roster.create_facilitator(data, coordinator().actor, now())
        db.session.commit()
        return facilitator


@facilitators_bp.route("/<int:facilitator_id>")
class FacilitatorById(MethodView):
    @facilitators_bp.response(200, FacilitatorSchema)
    def get(self, facilitator_id):
        """One facilitator."""
        coordinator()
        return Facilitator.get_or_404(facilitator_id)

    @facilitators_bp.arguments(FacilitatorPatchArgs(partial=True))
    @facilitators_bp.response(200, FacilitatorSchema)
    def patch(self, changes, facilitator_id):
        """Change a facilitator (any subset of fields)."""
        who = coordinator()
        facilitator = roster.update_facilitator(
            Facilitator.get_or_404(facilitator_id), changes, who.actor, now()
        )
        db.session.commit()
        return facilitator

    @facilitators_bp.response(204)
    def delete(self, facilitator_id):
        """Remove a facilitator who leads no group."""
        who = coordinator()
        roster.delete_facilitator(Facilitator.get_or_404(facilitator_id), who.actor)
        db.session.commit()


coordinators_bp = Blueprint(
    "coordinators", __name__, url_prefix="/api/v1/coordinators", description="Coordinators"
)
coordinators_bp.before_request(coordinators_only)


@coordinators_bp.route("")
class Coordinators(MethodView):
    @coordinators_bp.response(200, CoordinatorSchema(many=True))
    @coordinators_bp.paginate()
    def get(self, pagination_parameters):
        """List coordinators."""
        return paginate_query(select(Coordinator).order_by(Coordinator.id), pagination_parameters)

    @coordinators_bp.arguments(CoordinatorArgs)
    @coordinators_bp.response(201, CoordinatorSchema)
    def post(self, data):
        """Add a coordinator (audited)."""
        created = coordinators.create_coordinator(data, coordinator().actor, now())
        db.session.commit()
        return created


@coordinators_bp.route("/<int:coordinator_id>")
class CoordinatorById(MethodView):
    @coordinators_bp.response(200, CoordinatorSchema)
    def get(self, coordinator_id):
        """One coordinator."""
        return Coordinator.get_or_404(coordinator_id)

    @coordinators_bp.arguments(CoordinatorPatchArgs(partial=True))
    @coordinators_bp.response(200, CoordinatorSchema)
    def patch(self, changes, coordinator_id):
        """Change a coordinator (any subset of fields; `active: false` stops their alert texts)."""
        person = Coordinator.get_or_404(coordinator_id)
        person = coordinators.update_coordinator(person, changes, coordinator().actor)
        db.session.commit()
        return person

    @coordinators_bp.response(204)
    def delete(self, coordinator_id):
        """Remove a coordinator never texted about an alert (409 otherwise: set them inactive)."""
        coordinators.delete_coordinator(Coordinator.get_or_404(coordinator_id), coordinator().actor)
        db.session.commit()
