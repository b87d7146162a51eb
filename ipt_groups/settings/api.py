"""Programme settings: the SMS texts coordinators may rewrite, and the phrases of crisis they add."""

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ipt_groups.api.access import coordinator, coordinators_only
from ipt_groups.api.clock import now
from ipt_groups.api.fields import JsonBool, Language
from ipt_groups.checkins import crisis
from ipt_groups.errors import InvalidInput
from ipt_groups.extensions import db
from ipt_groups.messaging.languages import catalogues
from ipt_groups.settings import intake, programme

bp = Blueprint("settings", __name__, url_prefix="/api/v1/settings", description="Programme settings")
bp.before_request(coordinators_only)


_BY_LANGUAGE = fields.Dict(keys=fields.Str(), values=fields.Dict(keys=fields.Str(), values=fields.Str()))


class TextsByLanguage(fields.Dict):
    """Texts by language, then key: {"es": {"session_reminder_2h": "..."}}. A text given directly
    under its key ({"session_reminder_2h": "..."}, the shape before languages) is English."""

    def __init__(self, **kwargs):
        super().__init__(keys=fields.Str(), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        out: dict[str, dict[str, str]] = {}
        errors = {}
        for key, texts in super()._deserialize(value, attr, data, **kwargs).items():
            if isinstance(texts, str):
                out.setdefault("en", {})[key] = texts
            elif not Language.PATTERN.match(key):
                errors[key] = [f"{key!r} is not a language tag such as 'es' (or a text's key with a text)"]
            elif not isinstance(texts, dict) or not all(isinstance(t, str) for t in texts.values()):
                errors[key] = ["must map text keys to texts"]
            else:
                out.setdefault(key.lower(), {}).update(texts)
        if errors:
            raise ValidationError(errors)
        return out


class TextsSchema(Schema):
    languages = fields.Dict(keys=fields.Str(), values=fields.Str(), metadata={"description": "tag: name"})
    defaults = _BY_LANGUAGE
    texts = _BY_LANGUAGE


class TextsArgs(Schema):
    texts = TextsByLanguage(required=True)
    allow_topic_words = JsonBool(load_default=False)


def _texts(own: dict) -> dict:
    found = catalogues().by_language
    return {
        "languages": {tag: c.name for tag, c in found.items()},
        "defaults": {tag: dict(c.texts) for tag, c in found.items()},
        "texts": own,
    }


@bp.route("/message-texts")
class MessageTexts(MethodView):
    @bp.response(200, TextsSchema)
    def get(self):
        """Every catalogue's texts by language, and the programme's own replacements."""
        return _texts(programme.message_texts())

    @bp.arguments(TextsArgs)
    @bp.response(200, TextsSchema)
    def put(self, data):
        """Replace the programme's texts, by language; each keeps the placeholders its text needs and its
        segment budget, and a text naming therapy or a topic needs allow_topic_words."""
        texts = programme.set_message_texts(
            data["texts"], data["allow_topic_words"], coordinator().actor, now()
        )
        db.session.commit()
        return _texts(texts)


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


class IntakeSchema(Schema):
    eligibility_threshold = fields.Int(strict=True, validate=validate.Range(min=0, max=27))
    invitation_hours = fields.Int(strict=True, validate=validate.Range(min=1, max=24 * 14))
    invitation_reminder_hours = fields.Int(strict=True, validate=validate.Range(min=0, max=24 * 14))
    screening_required = JsonBool()
    small_group_notice_days = fields.Int(strict=True, validate=validate.Range(min=0, max=60))
    referral_line = fields.Dict(keys=Language(), values=fields.Str(validate=validate.Length(max=300)))


class IntakeArgs(IntakeSchema):
    @validates_schema
    def not_empty(self, data, **kwargs):
        """A change names at least one setting."""
        if not data:
            raise ValidationError({"_schema": ["give at least one setting to change"]})


@bp.route("/intake")
class Intake(MethodView):
    @bp.response(200, IntakeSchema)
    def get(self):
        """Eligibility rule, invitation deadline and reminder, screening before formation, small groups."""
        return intake.intake_settings()

    @bp.arguments(IntakeArgs)
    @bp.response(200, IntakeSchema)
    def put(self, data):
        """Change some intake settings; the others keep their value (audited)."""
        settings = intake.intake_settings()
        if data.get("invitation_reminder_hours", settings["invitation_reminder_hours"]) >= data.get(
            "invitation_hours", settings["invitation_hours"]
        ):
            raise InvalidInput(
                "the reminder must come before the deadline",
                {"invitation_reminder_hours": ["must be less than invitation_hours"]},
            )
        found = intake.set_intake_settings(data, coordinator().actor, now())
        db.session.commit()
        return found
