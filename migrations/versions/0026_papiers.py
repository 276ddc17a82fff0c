"""Administrative and financial papers: contrats de séjour / DIPC with their avenants, devis and
their lines, factures and attestations de paiement, justificatifs de ressources, aides, assurances

Revision ID: 0026_papiers
Revises: 0025_reunions
Create Date: 2026-12-04 06:04:33.644787

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026_papiers'
down_revision = '0025_reunions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('aide',
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('libelle', sa.String(length=120), nullable=True),
    sa.Column('organisme', sa.String(length=200), nullable=True),
    sa.Column('numero_decision', sa.String(length=60), nullable=True),
    sa.Column('montant', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('debut', sa.Date(), nullable=True),
    sa.Column('fin', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sensitivity', sa.String(length=20), nullable=False),
    sa.Column('usager_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('archived_at', sa.DateTime(), nullable=True),
    sa.Column('archived_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['archived_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['usager_id'], ['usager.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('aide', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_aide_archived_at'), ['archived_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_aide_fin'), ['fin'], unique=False)
        batch_op.create_index(batch_op.f('ix_aide_usager_id'), ['usager_id'], unique=False)

    op.create_table('assurance',
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('organisme', sa.String(length=200), nullable=True),
    sa.Column('contrat', sa.String(length=60), nullable=True),
    sa.Column('debut', sa.Date(), nullable=True),
    sa.Column('fin', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sensitivity', sa.String(length=20), nullable=False),
    sa.Column('usager_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('archived_at', sa.DateTime(), nullable=True),
    sa.Column('archived_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['archived_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['usager_id'], ['usager.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('assurance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assurance_archived_at'), ['archived_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_assurance_usager_id'), ['usager_id'], unique=False)

    op.create_table('devis',
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('objet', sa.String(length=200), nullable=False),
    sa.Column('accepte_le', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sensitivity', sa.String(length=20), nullable=False),
    sa.Column('usager_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('archived_at', sa.DateTime(), nullable=True),
    sa.Column('archived_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['archived_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['usager_id'], ['usager.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('devis', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_devis_archived_at'), ['archived_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_devis_usager_id'), ['usager_id'], unique=False)

    op.create_table('facture',
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('numero', sa.String(length=60), nullable=True),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('montant', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('periode_debut', sa.Date(), nullable=True),
    sa.Column('periode_fin', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sensitivity', sa.String(length=20), nullable=False),
    sa.Column('usager_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('archived_at', sa.DateTime(), nullable=True),
    sa.Column('archived_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['archived_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['usager_id'], ['usager.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('facture', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_facture_archived_at'), ['archived_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_facture_usager_id'), ['usager_id'], unique=False)

    op.create_table('justificatif_ressources',
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('periode_debut', sa.Date(), nullable=True),
    sa.Column('periode_fin', sa.Date(), nullable=True),
    sa.Column('montant', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sensitivity', sa.String(length=20), nullable=False),
    sa.Column('usager_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('archived_at', sa.DateTime(), nullable=True),
    sa.Column('archived_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['archived_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['usager_id'], ['usager.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('justificatif_ressources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_justificatif_ressources_archived_at'), ['archived_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_justificatif_ressources_usager_id'), ['usager_id'], unique=False)

    op.create_table('devis_ligne',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('devis_id', sa.Integer(), nullable=False),
    sa.Column('usager_id', sa.Integer(), nullable=False),
    sa.Column('sensitivity', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('libelle', sa.String(length=200), nullable=False),
    sa.Column('quantite', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('prix_unitaire', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['devis_id'], ['devis.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['usager_id'], ['usager.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('devis_ligne', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_devis_ligne_devis_id'), ['devis_id'], unique=False)

    op.create_table('contrat_sejour',
    sa.Column('admission_id', sa.Integer(), nullable=False),
    sa.Column('etablissement_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=12), nullable=False),
    sa.Column('remis_le', sa.Date(), nullable=True),
    sa.Column('signe_le', sa.Date(), nullable=True),
    sa.Column('signataires', sa.Text(), nullable=True),
    sa.Column('duree_mois', sa.Integer(), nullable=True),
    sa.Column('prestations', sa.Text(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sensitivity', sa.String(length=20), nullable=False),
    sa.Column('usager_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('archived_at', sa.DateTime(), nullable=True),
    sa.Column('archived_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['admission_id'], ['admission.id'], ),
    sa.ForeignKeyConstraint(['archived_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['etablissement_id'], ['etablissement.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['usager_id'], ['usager.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contrat_sejour', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contrat_sejour_admission_id'), ['admission_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contrat_sejour_archived_at'), ['archived_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_contrat_sejour_usager_id'), ['usager_id'], unique=False)

    op.create_table('avenant',
    sa.Column('contrat_id', sa.Integer(), nullable=False),
    sa.Column('etablissement_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('objet', sa.String(length=200), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sensitivity', sa.String(length=20), nullable=False),
    sa.Column('usager_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('archived_at', sa.DateTime(), nullable=True),
    sa.Column('archived_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['archived_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['contrat_id'], ['contrat_sejour.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['etablissement_id'], ['etablissement.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['usager_id'], ['usager.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('avenant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_avenant_archived_at'), ['archived_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_avenant_contrat_id'), ['contrat_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_avenant_usager_id'), ['usager_id'], unique=False)



def downgrade():
    with op.batch_alter_table('avenant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_avenant_usager_id'))
        batch_op.drop_index(batch_op.f('ix_avenant_contrat_id'))
        batch_op.drop_index(batch_op.f('ix_avenant_archived_at'))

    op.drop_table('avenant')
    with op.batch_alter_table('contrat_sejour', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contrat_sejour_usager_id'))
        batch_op.drop_index(batch_op.f('ix_contrat_sejour_archived_at'))
        batch_op.drop_index(batch_op.f('ix_contrat_sejour_admission_id'))

    op.drop_table('contrat_sejour')
    with op.batch_alter_table('devis_ligne', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_devis_ligne_devis_id'))

    op.drop_table('devis_ligne')
    with op.batch_alter_table('justificatif_ressources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_justificatif_ressources_usager_id'))
        batch_op.drop_index(batch_op.f('ix_justificatif_ressources_archived_at'))

    op.drop_table('justificatif_ressources')
    with op.batch_alter_table('facture', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_facture_usager_id'))
        batch_op.drop_index(batch_op.f('ix_facture_archived_at'))

    op.drop_table('facture')
    with op.batch_alter_table('devis', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_devis_usager_id'))
        batch_op.drop_index(batch_op.f('ix_devis_archived_at'))

    op.drop_table('devis')
    with op.batch_alter_table('assurance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assurance_usager_id'))
        batch_op.drop_index(batch_op.f('ix_assurance_archived_at'))

    op.drop_table('assurance')
    with op.batch_alter_table('aide', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_aide_usager_id'))
        batch_op.drop_index(batch_op.f('ix_aide_fin'))
        batch_op.drop_index(batch_op.f('ix_aide_archived_at'))

    op.drop_table('aide')
