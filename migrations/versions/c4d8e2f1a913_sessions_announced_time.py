"""sessions: the time members were last told of as a whole (for the reconciler's change notices);
alerts: the `unmarked` kind (a held session with members not marked); messages: an index on (group_id,
state), the reconciler's read of one group's pending rows

Revision ID: c4d8e2f1a913
Revises: 5c7517f3d688
Create Date: 2026-11-27 15:10:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c4d8e2f1a913"
down_revision = "5c7517f3d688"
branch_labels = None
depends_on = None

OLD_KINDS = ("safety", "outreach", "operator", "rsvp_decline", "cannot_complete", "small_group")
NEW_KINDS = (*OLD_KINDS, "unmarked")


def upgrade():
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("announced_starts_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("announced_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_group_id_state', ['group_id', 'state'], unique=False)
    # Sessions planned before: members were told their current time.
    op.execute("UPDATE sessions SET announced_starts_at = starts_at")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_alerts_kind"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_alerts_kind"), "kind IN (%s)" % ", ".join(f"'{k}'" for k in NEW_KINDS)
        )


def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_group_id_state')
    op.execute("DELETE FROM alerts WHERE kind = 'unmarked'")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_alerts_kind"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_alerts_kind"), "kind IN (%s)" % ", ".join(f"'{k}'" for k in OLD_KINDS)
        )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("announced_at")
        batch_op.drop_column("announced_starts_at")
