"""form drafts kept server-side for their author

Revision ID: 0007_form_draft
Revises: 0006_security_stamp
Create Date: 2026-11-23 10:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007_form_draft'
down_revision = '0006_security_stamp'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('form_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('page', sa.String(length=300), nullable=False),
    sa.Column('form_key', sa.String(length=100), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.Column('usager_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['usager_id'], ['usager.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'page', 'form_key', name='uq_form_draft')
    )
    with op.batch_alter_table('form_draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_draft_updated_at'), ['updated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_form_draft_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_form_draft_usager_id'), ['usager_id'], unique=False)


def downgrade():
    op.drop_table('form_draft')
