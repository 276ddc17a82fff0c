"""Écrits professionnels: types of écrits (référentiel), comptes rendus and reports with their
co-authors and saved versions

Revision ID: 0024_ecrits
Revises: 0023_transmissions
Create Date: 2026-12-04 06:04:37

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024_ecrits'
down_revision = '0023_transmissions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ref_type_ecrit',
    sa.Column('validation', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('roles_validation', sa.String(length=200), server_default='Chef de service,Direction', nullable=False),
    sa.Column('categorie', sa.String(length=20), server_default='social_educatif', nullable=False),
    sa.Column('type_document', sa.String(length=40), server_default='compte_rendu', nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('ecrit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('usager_id', sa.Integer(), nullable=False),
    sa.Column('etablissement_id', sa.Integer(), nullable=False),
    sa.Column('type_id', sa.Integer(), nullable=False),
    sa.Column('titre', sa.String(length=200), nullable=False),
    sa.Column('contenu', sa.Text(), nullable=False),
    sa.Column('sensitivity', sa.String(length=20), nullable=False),
    sa.Column('statut', sa.String(length=12), nullable=False),
    sa.Column('auteur_id', sa.Integer(), nullable=False),
    sa.Column('commentaire_refus', sa.Text(), nullable=True),
    sa.Column('refused_at', sa.DateTime(), nullable=True),
    sa.Column('refused_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('validated_at', sa.DateTime(), nullable=True),
    sa.Column('validated_by_id', sa.Integer(), nullable=True),
    sa.Column('diffused_at', sa.DateTime(), nullable=True),
    sa.Column('diffused_by_id', sa.Integer(), nullable=True),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('document_version', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['auteur_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['diffused_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['etablissement_id'], ['etablissement.id'], ),
    sa.ForeignKeyConstraint(['refused_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['type_id'], ['ref_type_ecrit.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['usager_id'], ['usager.id'], ),
    sa.ForeignKeyConstraint(['validated_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ecrit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ecrit_etablissement_id'), ['etablissement_id'], unique=False)
        batch_op.create_index('ix_ecrit_statut', ['statut'], unique=False)
        batch_op.create_index('ix_ecrit_usager', ['usager_id', 'created_at'], unique=False)

    op.create_table('ecrit_coauteur',
    sa.Column('ecrit_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ecrit_id'], ['ecrit.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ecrit_id', 'user_id')
    )
    op.create_table('ecrit_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ecrit_id', sa.Integer(), nullable=False),
    sa.Column('usager_id', sa.Integer(), nullable=False),
    sa.Column('numero', sa.Integer(), nullable=False),
    sa.Column('titre', sa.String(length=200), nullable=False),
    sa.Column('contenu', sa.Text(), nullable=False),
    sa.Column('sensitivity', sa.String(length=20), nullable=False),
    sa.Column('statut', sa.String(length=12), nullable=False),
    sa.Column('saved_at', sa.DateTime(), nullable=False),
    sa.Column('saved_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['ecrit_id'], ['ecrit.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['saved_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['usager_id'], ['usager.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ecrit_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ecrit_version_ecrit_id'), ['ecrit_id'], unique=False)



def downgrade():
    with op.batch_alter_table('ecrit_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ecrit_version_ecrit_id'))

    op.drop_table('ecrit_version')
    op.drop_table('ecrit_coauteur')
    with op.batch_alter_table('ecrit', schema=None) as batch_op:
        batch_op.drop_index('ix_ecrit_usager')
        batch_op.drop_index('ix_ecrit_statut')
        batch_op.drop_index(batch_op.f('ix_ecrit_etablissement_id'))

    op.drop_table('ecrit')
    op.drop_table('ref_type_ecrit')
