"""Programme settings: the SMS texts coordinators may rewrite."""

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ipt_groups import programme
from ipt_groups.api.access import coordinator, coordinators_only
from ipt_groups.api.clock import now
from ipt_groups.extensions import db
from ipt_groups.messaging.texts import DEFAULT_TEXTS
from ipt_groups.schemas.fields import JsonBool

bp = Blueprint("settings", __name__, url_prefix="/api/v1/settings", description="Programme settings")
bp.before_request(coordinators_only)


class TextsSchema(Schema):
    defaults = fields.Dict(keys=fields.Str(), values=fields.Str())
    texts = fields.Dict(keys=fields.Str(), values=fields.Str())


class TextsArgs(Schema):
    texts = fields.Dict(keys=fields.Str(), values=fields.Str(), required=True)
    allow_topic_words = JsonBool(load_default=False)


@bp.route("/message-texts")
class MessageTexts(MethodView):
    @bp.response(200, TextsSchema)
    def get(self):
        """The default texts and the programme's own replacements."""
        return {"defaults": DEFAULT_TEXTS, "texts": programme.message_texts()}

    @bp.arguments(TextsArgs)
    @bp.response(200, TextsSchema)
    def put(self, data):
        """Replace the programme's texts; a text naming therapy or a topic needs allow_topic_words."""
        texts = programme.set_message_texts(
            data["texts"], data["allow_topic_words"], coordinator().actor, now()
        )
        db.session.commit()
        return {"defaults": DEFAULT_TEXTS, "texts": texts}
