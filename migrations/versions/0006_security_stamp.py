"""security stamp: a version that moves with every change deciding access

Revision ID: 0006_security_stamp
Revises: 0005_secret
Create Date: 2026-11-23 09:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006_security_stamp'
down_revision = '0005_secret'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table('security_stamp',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.bulk_insert(table, [{"id": 1, "version": 0}])


def downgrade():
    op.drop_table('security_stamp')
