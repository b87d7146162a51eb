"""Facilitators: the roster (coordinators only)."""

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from ipt_groups import roster
from ipt_groups.api.access import coordinator, coordinators_only
from ipt_groups.api.clock import now
from ipt_groups.api.pages import paginate_query
from ipt_groups.extensions import db
from ipt_groups.models import Facilitator
from ipt_groups.schemas.facilitator import FacilitatorArgs, FacilitatorPatchArgs, FacilitatorSchema

bp = Blueprint("facilitators", __name__, url_prefix="/api/v1/facilitators", description="Facilitators")
bp.before_request(coordinators_only)


@bp.route("")
class Facilitators(MethodView):
    @bp.response(200, FacilitatorSchema(many=True))
    @bp.paginate()
    def get(self, pagination_parameters):
        """List facilitators."""
        coordinator()
        return paginate_query(select(Facilitator).order_by(Facilitator.id), pagination_parameters)

    @bp.arguments(FacilitatorArgs)
    @bp.response(201, FacilitatorSchema)
    def post(self, data):
        """Add a facilitator."""
        facilitator = roster.create_facilitator(data, coordinator().actor, now())
        db.session.commit()
        return facilitator


@bp.route("/<int:facilitator_id>")
class FacilitatorById(MethodView):
    @bp.response(200, FacilitatorSchema)
    def get(self, facilitator_id):
        """One facilitator."""
        coordinator()
        return roster.get_or_404(Facilitator, facilitator_id)

    @bp.arguments(FacilitatorPatchArgs(partial=True))
    @bp.response(200, FacilitatorSchema)
    def patch(self, changes, facilitator_id):
        """Change a facilitator (any subset of fields)."""
        facilitator = roster.update_facilitator(facilitator_id, changes, coordinator().actor)
        db.session.commit()
        return facilitator

    @bp.response(204)
    def delete(self, facilitator_id):
        """Remove a facilitator who leads no group."""
        roster.delete_facilitator(facilitator_id, coordinator().actor)
        db.session.commit()
