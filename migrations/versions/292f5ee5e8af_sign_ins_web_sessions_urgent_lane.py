"""sign-ins, web sessions, urgent lane: the pages' one-time codes and links, signed-in browsers, and
the partial index the sign-in codes' lane is claimed through

Revision ID: 292f5ee5e8af
Revises: 5b1e0c7d2a94
Create Date: 2026-11-27 12:55:44.365037

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '292f5ee5e8af'
down_revision = '5b1e0c7d2a94'
branch_labels = None
depends_on = None

URGENT_PENDING = "state = 'pending' AND kind IN ('signin_code')"


def upgrade():
    op.create_table('sign_ins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('facilitator_id', sa.Integer(), nullable=True),
    sa.Column('coordinator_id', sa.Integer(), nullable=True),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=True),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.CheckConstraint("method IN ('code', 'link')", name=op.f('ck_sign_ins_method')),
    sa.CheckConstraint("role IN ('coordinator', 'facilitator')", name=op.f('ck_sign_ins_role')),
    sa.ForeignKeyConstraint(['coordinator_id'], ['coordinators.id'], name=op.f('fk_sign_ins_coordinator_id_coordinators')),
    sa.ForeignKeyConstraint(['facilitator_id'], ['facilitators.id'], name=op.f('fk_sign_ins_facilitator_id_facilitators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_ins'))
    )
    with op.batch_alter_table('sign_ins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_ins_coordinator_id'), ['coordinator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_ins_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_ins_facilitator_id'), ['facilitator_id'], unique=False)

    op.create_table('web_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('facilitator_id', sa.Integer(), nullable=True),
    sa.Column('coordinator_id', sa.Integer(), nullable=True),
    sa.Column('sign_in_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('coordinator', 'facilitator')", name=op.f('ck_web_sessions_role')),
    sa.ForeignKeyConstraint(['coordinator_id'], ['coordinators.id'], name=op.f('fk_web_sessions_coordinator_id_coordinators')),
    sa.ForeignKeyConstraint(['facilitator_id'], ['facilitators.id'], name=op.f('fk_web_sessions_facilitator_id_facilitators')),
    sa.ForeignKeyConstraint(['sign_in_id'], ['sign_ins.id'], name=op.f('fk_web_sessions_sign_in_id_sign_ins')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_web_sessions_token_hash'))
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sessions_coordinator_id'), ['coordinator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_sessions_facilitator_id'), ['facilitator_id'], unique=False)

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_urgent_pending', ['due_at', 'id'], unique=False, sqlite_where=sa.text(URGENT_PENDING), postgresql_where=sa.text(URGENT_PENDING))



def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_urgent_pending', sqlite_where=sa.text(URGENT_PENDING), postgresql_where=sa.text(URGENT_PENDING))

    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sessions_facilitator_id'))
        batch_op.drop_index(batch_op.f('ix_web_sessions_coordinator_id'))

    op.drop_table('web_sessions')
    with op.batch_alter_table('sign_ins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_ins_facilitator_id'))
        batch_op.drop_index(batch_op.f('ix_sign_ins_created_at'))
        batch_op.drop_index(batch_op.f('ix_sign_ins_coordinator_id'))

    op.drop_table('sign_ins')
