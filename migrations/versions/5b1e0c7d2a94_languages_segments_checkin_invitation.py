"""languages: facilitators' own language, segments per message, check-in invitations, texts by language

Revision ID: 5b1e0c7d2a94
Revises: 432710ea60bb
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b1e0c7d2a94'
down_revision = '432710ea60bb'
branch_labels = None
depends_on = None

facilitators = sa.table('facilitators', sa.column('id', sa.Integer), sa.column('languages', sa.JSON),
                        sa.column('language', sa.String))
settings = sa.table('settings', sa.column('key', sa.String), sa.column('value', sa.JSON))


def upgrade():
    with op.batch_alter_table('facilitators', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=16), server_default='en', nullable=False))
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('segments', sa.Integer(), nullable=True))
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.add_column(sa.Column('begun', sa.Boolean(), server_default=sa.true(), nullable=False))
    conn = op.get_bind()
    # A facilitator's texts go in the first language they lead groups in, until someone says otherwise.
    for row in conn.execute(sa.select(facilitators.c.id, facilitators.c.languages)).all():
        if row.languages:
            conn.execute(facilitators.update().where(facilitators.c.id == row.id)
                         .values(language=str(row.languages[0])[:16]))
    # The programme's texts were English only, keyed by text: they are now by language, then key.
    _convert_texts(conn, lambda value: {'en': value} if value else {})


def downgrade():
    _convert_texts(op.get_bind(), lambda value: dict(value.get('en', {})))
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.drop_column('begun')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('segments')
    with op.batch_alter_table('facilitators', schema=None) as batch_op:
        batch_op.drop_column('language')


def _convert_texts(conn, convert):
    value = conn.execute(sa.select(settings.c.value).where(settings.c.key == 'message_texts')).scalar()
    if value is not None:
        conn.execute(settings.update().where(settings.c.key == 'message_texts').values(value=convert(value)))
