"""coordinators, escalation, safety lane, access log

Revision ID: 432710ea60bb
Revises: 3625738f0ba1
Create Date: 2026-11-27 11:38:25.920921

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '432710ea60bb'
down_revision = '3625738f0ba1'
branch_labels = None
depends_on = None

SAFETY_PENDING = "state = 'pending' AND kind IN ('safety_alert', 'crisis_line')"


def upgrade():
    op.create_table('access_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('what', sa.String(length=32), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('via', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log'))
    )
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_log_member_id'), ['member_id'], unique=False)

    op.create_table('coordinators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coordinators')),
    sa.UniqueConstraint('phone', name=op.f('uq_coordinators_phone'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalation_level', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('next_escalation_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_alerts_next_escalation_at'), ['next_escalation_at'], unique=False)

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('coordinator_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_api_tokens_coordinator_id_coordinators'), 'coordinators', ['coordinator_id'], ['id'])

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('coordinator_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('alert_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_messages_alert_id'), ['alert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_coordinator_id'), ['coordinator_id'], unique=False)
        batch_op.create_index('ix_messages_safety_pending', ['due_at', 'id'], unique=False, sqlite_where=sa.text(SAFETY_PENDING), postgresql_where=sa.text(SAFETY_PENDING))
        batch_op.create_foreign_key(batch_op.f('fk_messages_alert_id_alerts'), 'alerts', ['alert_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_messages_coordinator_id_coordinators'), 'coordinators', ['coordinator_id'], ['id'])

    _link_existing_safety_texts()


def _link_existing_safety_texts():
    """Open safety alerts raised before escalation existed escalate at the next tick (they have waited
    already); their texts, listed in `notified`, are linked to them so delivery can be read."""
    alerts = sa.table('alerts', sa.column('id'), sa.column('kind'), sa.column('notified', sa.JSON()),
                      sa.column('created_at'), sa.column('acknowledged_at'), sa.column('next_escalation_at'))
    messages = sa.table('messages', sa.column('id'), sa.column('alert_id'))
    bind = op.get_bind()
    op.execute(alerts.update().where(alerts.c.kind == 'safety', alerts.c.acknowledged_at.is_(None))
               .values(next_escalation_at=alerts.c.created_at))
    for alert_id, notified in bind.execute(sa.select(alerts.c.id, alerts.c.notified).where(alerts.c.kind == 'safety')):
        ids = [n['message_id'] for n in notified or [] if n.get('message_id')]
        if ids:
            op.execute(messages.update().where(messages.c.id.in_(ids)).values(alert_id=alert_id))


def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_messages_coordinator_id_coordinators'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_messages_alert_id_alerts'), type_='foreignkey')
        batch_op.drop_index('ix_messages_safety_pending', sqlite_where=sa.text(SAFETY_PENDING), postgresql_where=sa.text(SAFETY_PENDING))
        batch_op.drop_index(batch_op.f('ix_messages_coordinator_id'))
        batch_op.drop_index(batch_op.f('ix_messages_alert_id'))
        batch_op.drop_column('alert_id')
        batch_op.drop_column('coordinator_id')

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_api_tokens_coordinator_id_coordinators'), type_='foreignkey')
        batch_op.drop_column('coordinator_id')

    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_next_escalation_at'))
        batch_op.drop_column('next_escalation_at')
        batch_op.drop_column('escalation_level')

    op.drop_table('coordinators')
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_log_member_id'))
        batch_op.drop_index(batch_op.f('ix_access_log_at'))

    op.drop_table('access_log')
