"""Transmissions (cahier de liaison): one entry per writing, one line per person it is about,
the texts replaced by a correction, read acknowledgements; the DAR or narrative mode of each service

Revision ID: 0023_transmissions
Revises: 0022_documents
Create Date: 2026-12-04 05:43:36

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023_transmissions'
down_revision = '0022_documents'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('transmission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('written_at', sa.DateTime(), nullable=False),
    sa.Column('etablissement_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('sensitivity', sa.String(length=20), nullable=False),
    sa.Column('importante', sa.Boolean(), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('cible', sa.String(length=60), nullable=True),
    sa.Column('donnees', sa.Text(), nullable=True),
    sa.Column('actions', sa.Text(), nullable=True),
    sa.Column('resultats', sa.Text(), nullable=True),
    sa.Column('texte', sa.Text(), nullable=True),
    sa.Column('corrected_at', sa.DateTime(), nullable=True),
    sa.Column('addendum_of_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['addendum_of_id'], ['transmission.id'], ),
    sa.ForeignKeyConstraint(['author_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['etablissement_id'], ['etablissement.id'], ),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('transmission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transmission_addendum_of_id'), ['addendum_of_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transmission_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_transmission_service_written', ['service_id', 'written_at'], unique=False)

    op.create_table('transmission_read',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transmission_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['transmission_id'], ['transmission.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'transmission_id', name='uq_transmission_read')
    )
    with op.batch_alter_table('transmission_read', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transmission_read_transmission_id'), ['transmission_id'], unique=False)

    op.create_table('transmission_usager',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transmission_id', sa.Integer(), nullable=False),
    sa.Column('usager_id', sa.Integer(), nullable=False),
    sa.Column('sensitivity', sa.String(length=20), nullable=False),
    sa.Column('written_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['transmission_id'], ['transmission.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['usager_id'], ['usager.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('transmission_id', 'usager_id', name='uq_transmission_usager')
    )
    with op.batch_alter_table('transmission_usager', schema=None) as batch_op:
        batch_op.create_index('ix_transmission_usager_feed', ['usager_id', 'written_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_transmission_usager_transmission_id'), ['transmission_id'], unique=False)

    op.create_table('transmission_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transmission_id', sa.Integer(), nullable=False),
    sa.Column('numero', sa.Integer(), nullable=False),
    sa.Column('sensitivity', sa.String(length=20), nullable=False),
    sa.Column('cible', sa.String(length=60), nullable=True),
    sa.Column('donnees', sa.Text(), nullable=True),
    sa.Column('actions', sa.Text(), nullable=True),
    sa.Column('resultats', sa.Text(), nullable=True),
    sa.Column('texte', sa.Text(), nullable=True),
    sa.Column('importante', sa.Boolean(), nullable=False),
    sa.Column('replaced_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['transmission_id'], ['transmission.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('transmission_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transmission_version_transmission_id'), ['transmission_id'], unique=False)

    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transmission_mode', sa.String(length=10), server_default='dar', nullable=False))



def downgrade():
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.drop_column('transmission_mode')

    with op.batch_alter_table('transmission_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transmission_version_transmission_id'))

    op.drop_table('transmission_version')
    with op.batch_alter_table('transmission_usager', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transmission_usager_transmission_id'))
        batch_op.drop_index('ix_transmission_usager_feed')

    op.drop_table('transmission_usager')
    with op.batch_alter_table('transmission_read', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transmission_read_transmission_id'))

    op.drop_table('transmission_read')
    with op.batch_alter_table('transmission', schema=None) as batch_op:
        batch_op.drop_index('ix_transmission_service_written')
        batch_op.drop_index(batch_op.f('ix_transmission_author_id'))
        batch_op.drop_index(batch_op.f('ix_transmission_addendum_of_id'))

    op.drop_table('transmission')
