"""Portal account recovery: a one-use link (its hash and expiry) to enrol a new password and
second factor, issued by the structure

Revision ID: 0034_portail_reinitialisation
Revises: 0033_audit_scale
Create Date: 2026-12-04 09:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0034_portail_reinitialisation'
down_revision = '0033_audit_scale'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('portal_account') as batch_op:
        batch_op.add_column(sa.Column('reset_token_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('reset_expires_at', sa.DateTime(), nullable=True))
        batch_op.create_unique_constraint('uq_portal_account_reset_token_hash', ['reset_token_hash'])


def downgrade():
    with op.batch_alter_table('portal_account') as batch_op:
        batch_op.drop_constraint('uq_portal_account_reset_token_hash', type_='unique')
        batch_op.drop_column('reset_expires_at')
        batch_op.drop_column('reset_token_hash')
