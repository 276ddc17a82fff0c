"""Agenda: events (appointments, activities, meetings, visits, absences) with their people and
participants, RRULE recurrences and cancelled occurrences; the hashed tokens of the ICS feeds

Revision ID: 0027_agenda
Revises: 0026_papiers
Create Date: 2026-12-04 06:10:04.216658

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0027_agenda'
down_revision = '0026_papiers'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agenda_feed',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('agenda_feed', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agenda_feed_user_id'), ['user_id'], unique=False)

    op.create_table('evenement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=120), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('titre', sa.String(length=200), nullable=False),
    sa.Column('lieu', sa.String(length=200), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('debut', sa.DateTime(), nullable=False),
    sa.Column('fin', sa.DateTime(), nullable=False),
    sa.Column('all_day', sa.Boolean(), nullable=False),
    sa.Column('sensitivity', sa.String(length=20), nullable=False),
    sa.Column('rrule', sa.String(length=300), nullable=True),
    sa.Column('exdates', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    sa.Column('etablissement_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['etablissement_id'], ['etablissement.id'], ),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uid')
    )
    with op.batch_alter_table('evenement', schema=None) as batch_op:
        batch_op.create_index('ix_evenement_etab_debut', ['etablissement_id', 'debut'], unique=False)
        batch_op.create_index(batch_op.f('ix_evenement_service_id'), ['service_id'], unique=False)

    op.create_table('evenement_participant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evenement_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['evenement_id'], ['evenement.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('evenement_id', 'user_id', name='uq_evenement_participant')
    )
    with op.batch_alter_table('evenement_participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evenement_participant_evenement_id'), ['evenement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evenement_participant_user_id'), ['user_id'], unique=False)

    op.create_table('evenement_usager',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evenement_id', sa.Integer(), nullable=False),
    sa.Column('usager_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['evenement_id'], ['evenement.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['usager_id'], ['usager.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('evenement_id', 'usager_id', name='uq_evenement_usager')
    )
    with op.batch_alter_table('evenement_usager', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evenement_usager_evenement_id'), ['evenement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evenement_usager_usager_id'), ['usager_id'], unique=False)



def downgrade():
    with op.batch_alter_table('evenement_usager', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evenement_usager_usager_id'))
        batch_op.drop_index(batch_op.f('ix_evenement_usager_evenement_id'))

    op.drop_table('evenement_usager')
    with op.batch_alter_table('evenement_participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evenement_participant_user_id'))
        batch_op.drop_index(batch_op.f('ix_evenement_participant_evenement_id'))

    op.drop_table('evenement_participant')
    with op.batch_alter_table('evenement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evenement_service_id'))
        batch_op.drop_index('ix_evenement_etab_debut')

    op.drop_table('evenement')
    with op.batch_alter_table('agenda_feed', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agenda_feed_user_id'))

    op.drop_table('agenda_feed')
