"""Coordinators: the people who coordinate, with the phones alerts escalate to (coordinators only)."""

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from ipt_groups import coordinators
from ipt_groups.api.access import coordinator, coordinators_only
from ipt_groups.api.clock import now
from ipt_groups.api.pages import paginate_query
from ipt_groups.extensions import db
from ipt_groups.models import Coordinator
from ipt_groups.roster import get_or_404
from ipt_groups.schemas.coordinator import CoordinatorArgs, CoordinatorPatchArgs, CoordinatorSchema

bp = Blueprint("coordinators", __name__, url_prefix="/api/v1/coordinators", description="Coordinators")
bp.before_request(coordinators_only)


@bp.route("")
class Coordinators(MethodView):
    @bp.response(200, CoordinatorSchema(many=True))
    @bp.paginate()
    def get(self, pagination_parameters):
        """List coordinators."""
        return paginate_query(select(Coordinator).order_by(Coordinator.id), pagination_parameters)

    @bp.arguments(CoordinatorArgs)
    @bp.response(201, CoordinatorSchema)
    def post(self, data):
        """Add a coordinator (audited)."""
        created = coordinators.create_coordinator(data, coordinator().actor, now())
        db.session.commit()
        return created


@bp.route("/<int:coordinator_id>")
class CoordinatorById(MethodView):
    @bp.response(200, CoordinatorSchema)
    def get(self, coordinator_id):
        """One coordinator."""
        return get_or_404(Coordinator, coordinator_id)

    @bp.arguments(CoordinatorPatchArgs(partial=True))
    @bp.response(200, CoordinatorSchema)
    def patch(self, changes, coordinator_id):
        """Change a coordinator (any subset of fields; `active: false` stops their alert texts)."""
        person = get_or_404(Coordinator, coordinator_id)
        person = coordinators.update_coordinator(person, changes, coordinator().actor)
        db.session.commit()
        return person

    @bp.response(204)
    def delete(self, coordinator_id):
        """Remove a coordinator never texted about an alert (409 otherwise: set them inactive)."""
        coordinators.delete_coordinator(get_or_404(Coordinator, coordinator_id), coordinator().actor)
        db.session.commit()
