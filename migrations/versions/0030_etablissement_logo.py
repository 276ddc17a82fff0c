"""The établissement's letterhead logo (PNG or JPEG) printed on its PDFs

Revision ID: 0030_etablissement_logo
Revises: 0029_search_index
Create Date: 2026-12-04 06:50:18.702247

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0030_etablissement_logo'
down_revision = '0029_search_index'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('etablissement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('logo', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('logo_mime', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('etablissement', schema=None) as batch_op:
        batch_op.drop_column('logo_mime')
        batch_op.drop_column('logo')
