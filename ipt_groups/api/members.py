"""Members: the waitlist and everyone in a group (coordinators only)."""

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from ipt_groups import roster
from ipt_groups.api.access import coordinator, coordinators_only
from ipt_groups.api.clock import now
from ipt_groups.api.pages import paginate_query
from ipt_groups.errors import InvalidInput
from ipt_groups.extensions import db
from ipt_groups.models import Member
from ipt_groups.schemas.member import (
    ImportArgs,
    ImportResultSchema,
    MemberArgs,
    MemberPatchArgs,
    MemberQueryArgs,
    MemberSchema,
)
from ipt_groups.waitlist_import import import_waitlist

bp = Blueprint("members", __name__, url_prefix="/api/v1/members", description="The waitlist and members")
bp.before_request(coordinators_only)


@bp.route("")
class Members(MethodView):
    @bp.arguments(MemberQueryArgs, location="query")
    @bp.response(200, MemberSchema(many=True))
    @bp.paginate()
    def get(self, filters, pagination_parameters):
        """List members, longest-waiting first; filter by status, problem area, language."""
        coordinator()
        return paginate_query(roster.list_members(filters), pagination_parameters)

    @bp.arguments(MemberArgs)
    @bp.response(201, MemberSchema)
    def post(self, data):
        """Add a member to the waitlist."""
        member = roster.create_member(data, coordinator().actor, now())
        db.session.commit()
        return member


@bp.route("/<int:member_id>")
class MemberById(MethodView):
    @bp.response(200, MemberSchema)
    def get(self, member_id):
        """One member."""
        coordinator()
        return roster.get_or_404(Member, member_id)

    @bp.arguments(MemberPatchArgs(partial=True))
    @bp.response(200, MemberSchema)
    def patch(self, changes, member_id):
        """Change a member (any subset of fields)."""
        member = roster.update_member(member_id, changes, coordinator().actor, now())
        db.session.commit()
        return member

    @bp.response(204)
    def delete(self, member_id):
        """Remove a member who has never been in a group."""
        roster.delete_member(member_id, coordinator().actor)
        db.session.commit()


@bp.route("/import", methods=["POST"])
@bp.arguments(ImportArgs, location="query")
@bp.response(201, ImportResultSchema)
@bp.alt_response(200, schema=ImportResultSchema, description="A dry run: the file is valid; nothing written")
@bp.doc(
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
    rows, members = import_waitlist(_csv_text(), args["dry_run"], who.actor, now())
    db.session.commit()
    result = {"dry_run": args["dry_run"], "rows": rows, "created": len(members), "members": members}
    return result, 200 if args["dry_run"] else 201


def _csv_text() -> str:
    if request.mimetype not in ("multipart/form-data", "text/csv"):
        reason = f"is {request.mimetype or 'missing'!r}; send multipart/form-data (field 'file') or text/csv"
        abort(415, message="wrong content type", errors={"headers": {"Content-Type": [reason]}})
    upload = request.files.get("file")
    raw = upload.read() if upload else (request.get_data() if request.mimetype == "text/csv" else None)
    if raw is None:
        raise InvalidInput("no CSV", {"file": ["upload a CSV as form field 'file' or send a text/csv body"]})
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("not UTF-8", {"file": [f"the file is not UTF-8 text (byte {exc.start})"]}) from exc
    if "\x00" in text:
        raise InvalidInput("not text", {"file": ["the file holds NUL characters; is it a spreadsheet?"]})
    return text
