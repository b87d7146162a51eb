"""inbound messages by sender and time (words of crisis split over several texts)

Revision ID: b7e3c1d90a21
Revises: 292f5ee5e8af
Create Date: 2026-11-28 09:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7e3c1d90a21'
down_revision = '292f5ee5e8af'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.create_index(
            'ix_inbound_messages_from_phone_received_at', ['from_phone', 'received_at'], unique=False
        )


def downgrade():
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_messages_from_phone_received_at')
