"""Programme settings: the SMS texts coordinators may rewrite, and the phrases of crisis they add."""

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ipt_groups.api.access import coordinator, coordinators_only
from ipt_groups.api.clock import now
from ipt_groups.api.fields import JsonBool, Language
from ipt_groups.checkins import crisis
from ipt_groups.extensions import db
from ipt_groups.messaging.texts import DEFAULT_TEXTS
from ipt_groups.settings import programme

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


class CrisisPhrasesSchema(Schema):
    built_in = fields.Dict(keys=fields.Str(), values=fields.List(fields.Str()))
    environment = fields.Dict(keys=fields.Str(), values=fields.List(fields.Str()))
    added = fields.Dict(keys=fields.Str(), values=fields.List(fields.Str()))


class CrisisPhrasesArgs(Schema):
    added = fields.Dict(
        keys=Language(), values=fields.List(fields.Str(), validate=validate.Length(max=200)), required=True
    )


def _crisis_phrases(added: dict) -> dict:
    environment = crisis.phrases_by_language(current_app.config.get("CRISIS_PHRASES") or ())
    return {"built_in": crisis.BUILT_IN_PHRASES, "environment": environment, "added": added}


@bp.route("/crisis-phrases")
class CrisisPhrases(MethodView):
    @bp.response(200, CrisisPhrasesSchema)
    def get(self):
        """The phrases of crisis in force: built in, from CRISIS_PHRASES, and the programme's own."""
        return _crisis_phrases(programme.crisis_phrases())

    @bp.arguments(CrisisPhrasesArgs)
    @bp.response(200, CrisisPhrasesSchema)
    def put(self, data):
        """Replace the programme's own phrases by language; built-in phrases cannot be removed."""
        added = programme.set_crisis_phrases(data["added"], coordinator().actor, now())
        db.session.commit()
        return _crisis_phrases(added)
