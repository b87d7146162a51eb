from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ipt_groups.api.fields import Id, JsonBool
from ipt_groups.formation.waitlist import SCREENING_MODES
from ipt_groups.vocabulary import PROBLEM_AREAS


class PolicyArgs(Schema):
    """The engine's policy; see README (Group formation) for each setting."""

    first_session_date = fields.Date(required=True)
    weeks = fields.Int(load_default=12, validate=validate.Range(min=1, max=52))
    min_size = fields.Int(load_default=6, validate=validate.Range(min=2, max=20))
    max_size = fields.Int(load_default=10, validate=validate.Range(min=2, max=20))
    session_minutes = fields.Int(load_default=90, validate=validate.Range(min=30, max=180))
    slot_step_minutes = fields.Int(load_default=30, validate=validate.OneOf([15, 30, 60]))
    match_on = fields.List(fields.Str(), load_default=lambda: ["problem_area", "language", "age_band"])
    mix_problem_areas = JsonBool(load_default=False)
    time_limit_s = fields.Float(load_default=10.0, validate=validate.Range(min=0.5, max=60))


class MemberFilterArgs(Schema):
    problem_area = fields.Str(validate=validate.OneOf(PROBLEM_AREAS))
    language = fields.Str()
    member_ids = fields.List(Id(), validate=validate.Length(max=20000))
    screening = fields.Str(
        validate=validate.OneOf(SCREENING_MODES),
        metadata={
            "description": "eligible, eligible_or_unscreened (default unless screening is required), any"
        },
    )


class ProposeArgs(Schema):
    policy = fields.Nested(PolicyArgs, required=True)
    member_filter = fields.Nested(MemberFilterArgs, load_default=dict)
    fill_open_seats = JsonBool(
        load_default=True, metadata={"description": "fill open seats in existing groups before new groups"}
    )


class ProposalSchema(Schema):
    id = fields.Int()
    status = fields.Str()
    created_by = fields.Str()
    created_at = fields.AwareDateTime()
    committed_at = fields.AwareDateTime(allow_none=True)
    policy = fields.Dict(attribute="document.policy")
    groups = fields.List(fields.Dict(), attribute="result.groups")
    fills = fields.Method("_fills", metadata={"description": "seats in existing groups"})
    unplaced = fields.List(fields.Dict(), attribute="result.unplaced")
    stats = fields.Dict(attribute="result.stats")
    group_ids = fields.List(fields.Int())

    def _fills(self, proposal) -> list:
        return (proposal.result or {}).get("fills", [])


class EditArgs(Schema):
    """One edit: move_member (member_id, to_group index or null to unplace), drop_group (group),
    set_facilitator (group, facilitator_id)."""

    op = fields.Str(required=True, validate=validate.OneOf(["move_member", "drop_group", "set_facilitator"]))
    member_id = Id()
    to_group = fields.Int(allow_none=True)
    group = fields.Int()
    facilitator_id = Id()

    @validates_schema
    def fields_for_op(self, data, **kwargs):
        """Each edit names what it needs."""
        needs = {
            "move_member": ["member_id"],
            "drop_group": ["group"],
            "set_facilitator": ["group", "facilitator_id"],
        }
        missing = [f for f in needs.get(data.get("op"), []) if f not in data]
        if missing:
            raise ValidationError({f: [f"required for {data['op']}"] for f in missing})
