"""scheduler workers, token expiry and last use, feed key versions

Revision ID: 9baea391bf8e
Revises: df417321f2ae
Create Date: 2026-11-27 12:55:04.846986

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9baea391bf8e'
down_revision = 'df417321f2ae'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scheduler_workers',
    sa.Column('worker', sa.String(length=100), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('beat_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ticked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('leader_since', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('worker', name=op.f('pk_scheduler_workers'))
    )
    with op.batch_alter_table('scheduler_workers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduler_workers_beat_at'), ['beat_at'], unique=False)

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('facilitators', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feed_key_version', sa.Integer(), server_default='1', nullable=False))



def downgrade():
    with op.batch_alter_table('facilitators', schema=None) as batch_op:
        batch_op.drop_column('feed_key_version')

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('expires_at')

    with op.batch_alter_table('scheduler_workers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduler_workers_beat_at'))

    op.drop_table('scheduler_workers')
