"""The outbox as coordinators see it: every planned, sent and refused message with its reason."""

from flask_smorest import Blueprint
from sqlalchemy import select

from ipt_groups.api.access import coordinator, coordinators_only
from ipt_groups.api.pages import paginate_query
from ipt_groups.messaging.schemas import MessageQueryArgs, MessageSchema
from ipt_groups.models import Message

bp = Blueprint("messages", __name__, url_prefix="/api/v1/messages", description="The SMS outbox")
bp.before_request(coordinators_only)


@bp.route("", methods=["GET"])
@bp.arguments(MessageQueryArgs, location="query")
@bp.response(200, MessageSchema(many=True))
@bp.paginate()
def list_messages(filters, pagination_parameters):
    """Messages by member, group, session, state or kind, soonest first."""
    coordinator()
    query = select(Message).order_by(Message.due_at, Message.id)
    for key, value in filters.items():
        query = query.where(getattr(Message, key) == value)
    return paginate_query(query, pagination_parameters)
