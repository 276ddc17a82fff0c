"""Audit at scale: signed verification checkpoints; indexes by usager, account and action with the time

Revision ID: 0033_audit_scale
Revises: 0032_portail
Create Date: 2026-12-04 08:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0033_audit_scale'
down_revision = '0032_portail'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_verification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('checked', sa.Integer(), nullable=False),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.Column('signature', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_usager_at', ['usager_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_event_username_at', ['username', 'at'], unique=False)
        batch_op.create_index('ix_audit_event_action_at', ['action', 'at'], unique=False)
        batch_op.drop_index('ix_audit_event_usager_id')  # the new indexes start with these columns
        batch_op.drop_index('ix_audit_event_action')


def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_action', ['action'], unique=False)
        batch_op.create_index('ix_audit_event_usager_id', ['usager_id'], unique=False)
        batch_op.drop_index('ix_audit_event_action_at')
        batch_op.drop_index('ix_audit_event_username_at')
        batch_op.drop_index('ix_audit_event_usager_at')
    op.drop_table('audit_verification')
