"""form family: the form a definition derives from (itself, a variant's base, a clone's source)

Revision ID: 0019_form_family
Revises: 0018_identity_referral
Create Date: 2026-12-04 02:30:06.210487

"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019_form_family'
down_revision = '0018_identity_referral'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('form_definition', schema=None) as batch_op:
        batch_op.add_column(sa.Column('family', sa.String(length=63), nullable=True))
    table = sa.table('form_definition', sa.column('id', sa.Integer), sa.column('code', sa.String),
                     sa.column('origin', sa.String), sa.column('family', sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(table.c.id, table.c.code, table.c.origin)).all()
    codes = {code for _id, code, _origin in rows}
    source = {}  # a clone's origin reads "<code> v<version>"
    for _id, code, origin in rows:
        match = re.fullmatch(r"([a-z][a-z0-9_]*) v\d+", origin or "")
        if match and match.group(1) in codes and match.group(1) != code:
            source.setdefault(code, match.group(1))

    def family(code, seen=()):
        parent = source.get(code)
        return code if parent is None or parent in seen else family(parent, seen + (code,))

    for row_id, code, _origin in rows:
        connection.execute(table.update().where(table.c.id == row_id).values(family=family(code)))
    with op.batch_alter_table('form_definition', schema=None) as batch_op:
        batch_op.alter_column('family', existing_type=sa.String(length=63), nullable=False)
        batch_op.create_index(batch_op.f('ix_form_definition_family'), ['family'], unique=False)


def downgrade():
    with op.batch_alter_table('form_definition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_definition_family'))
        batch_op.drop_column('family')
