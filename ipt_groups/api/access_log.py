"""The access log as coordinators query it: who read which member's health data, when, and how."""

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ipt_groups.access_log import access_query
from ipt_groups.api.access import coordinators_only
from ipt_groups.api.fields import Id
from ipt_groups.api.pages import paginate_query
from ipt_groups.models.access import READ_SUBJECTS

bp = Blueprint(
    "access-log", __name__, url_prefix="/api/v1/access-log", description="Reads of members' health data"
)
bp.before_request(coordinators_only)


class AccessQueryArgs(Schema):
    member_id = Id()
    actor = fields.Str(validate=validate.Length(min=1, max=200))
    what = fields.Str(validate=validate.OneOf(READ_SUBJECTS))
    since = fields.AwareDateTime(metadata={"description": "from this instant (inclusive)"})
    until = fields.AwareDateTime(metadata={"description": "up to this instant (exclusive)"})


class AccessEntrySchema(Schema):
    id = fields.Int()
    at = fields.AwareDateTime()
    actor = fields.Str()
    what = fields.Str()
    member_id = fields.Int(allow_none=True)
    via = fields.Str()
    detail = fields.Dict()


@bp.route("", methods=["GET"])
@bp.arguments(AccessQueryArgs, location="query")
@bp.response(200, AccessEntrySchema(many=True))
@bp.paginate()
def list_reads(filters, pagination_parameters):
    """Reads of members' phones, scores, check-ins, alerts and sheets, newest first, by member, actor,
    subject and time."""
    return paginate_query(access_query(filters), pagination_parameters)
