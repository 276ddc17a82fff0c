"""Réunions: types (référentiel), meetings with participants and attendance, agenda items (each
about a person or not, with a category of the shared secret) and their minutes, decisions, and
follow-up tasks listed on their owners' home pages

Revision ID: 0025_reunions
Revises: 0024_ecrits
Create Date: 2026-12-04 06:04:26.741340

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025_reunions'
down_revision = '0024_ecrits'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ref_type_reunion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('reunion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('type_id', sa.Integer(), nullable=False),
    sa.Column('etablissement_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('titre', sa.String(length=200), nullable=True),
    sa.Column('debut', sa.DateTime(), nullable=False),
    sa.Column('lieu', sa.String(length=200), nullable=True),
    sa.Column('statut', sa.String(length=10), nullable=False),
    sa.Column('validee_le', sa.DateTime(), nullable=True),
    sa.Column('validee_par_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['etablissement_id'], ['etablissement.id'], ),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], ),
    sa.ForeignKeyConstraint(['type_id'], ['ref_type_reunion.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['validee_par_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('reunion', schema=None) as batch_op:
        batch_op.create_index('ix_reunion_etablissement_date', ['etablissement_id', 'debut'], unique=False)

    op.create_table('reunion_participant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reunion_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=14), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('usager_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('nom', sa.String(length=160), nullable=True),
    sa.Column('organisation', sa.String(length=160), nullable=True),
    sa.Column('presence', sa.String(length=8), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contact_person.id'], ),
    sa.ForeignKeyConstraint(['reunion_id'], ['reunion.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['usager_id'], ['usager.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('reunion_participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reunion_participant_reunion_id'), ['reunion_id'], unique=False)

    op.create_table('reunion_point',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reunion_id', sa.Integer(), nullable=False),
    sa.Column('ordre', sa.Integer(), nullable=False),
    sa.Column('titre', sa.String(length=200), nullable=False),
    sa.Column('usager_id', sa.Integer(), nullable=True),
    sa.Column('sensitivity', sa.String(length=20), nullable=False),
    sa.Column('compte_rendu', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['reunion_id'], ['reunion.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['usager_id'], ['usager.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('reunion_point', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reunion_point_reunion_id'), ['reunion_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reunion_point_usager_id'), ['usager_id'], unique=False)

    op.create_table('reunion_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('usager_id', sa.Integer(), nullable=True),
    sa.Column('sensitivity', sa.String(length=20), nullable=False),
    sa.Column('texte', sa.Text(), nullable=False),
    sa.Column('responsable_id', sa.Integer(), nullable=True),
    sa.Column('echeance', sa.Date(), nullable=True),
    sa.Column('projet_action_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['point_id'], ['reunion_point.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['projet_action_id'], ['projet_action.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['responsable_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['usager_id'], ['usager.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('reunion_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reunion_decision_point_id'), ['point_id'], unique=False)

    op.create_table('tache',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('titre', sa.String(length=300), nullable=False),
    sa.Column('echeance', sa.Date(), nullable=True),
    sa.Column('usager_id', sa.Integer(), nullable=True),
    sa.Column('sensitivity', sa.String(length=20), nullable=True),
    sa.Column('decision_id', sa.Integer(), nullable=True),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['decision_id'], ['reunion_decision.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['usager_id'], ['usager.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('tache', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tache_decision_id'), ['decision_id'], unique=False)
        batch_op.create_index('ix_tache_owner_done', ['owner_id', 'done_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tache_usager_id'), ['usager_id'], unique=False)



def downgrade():
    with op.batch_alter_table('tache', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tache_usager_id'))
        batch_op.drop_index('ix_tache_owner_done')
        batch_op.drop_index(batch_op.f('ix_tache_decision_id'))

    op.drop_table('tache')
    with op.batch_alter_table('reunion_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reunion_decision_point_id'))

    op.drop_table('reunion_decision')
    with op.batch_alter_table('reunion_point', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reunion_point_usager_id'))
        batch_op.drop_index(batch_op.f('ix_reunion_point_reunion_id'))

    op.drop_table('reunion_point')
    with op.batch_alter_table('reunion_participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reunion_participant_reunion_id'))

    op.drop_table('reunion_participant')
    with op.batch_alter_table('reunion', schema=None) as batch_op:
        batch_op.drop_index('ix_reunion_etablissement_date')

    op.drop_table('reunion')
    op.drop_table('ref_type_reunion')
