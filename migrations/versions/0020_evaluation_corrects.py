"""evaluation.corrects_id indexed: the GMP looks up, for each result, the correction replacing it

Revision ID: 0020_evaluation_corrects
Revises: 0019_form_family
Create Date: 2026-12-04 03:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0020_evaluation_corrects'
down_revision = '0019_form_family'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_corrects_id'), ['corrects_id'], unique=False)


def downgrade():
    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluation_corrects_id'))
