"""The document store (GED): documents and their versions per dossier; document types get a
default category of the shared secret, whether they expire, a retention, and the établissement
categories where they are mandatory

Revision ID: 0022_documents
Revises: 0021_usager_phon_key
Create Date: 2026-12-04 05:46:06

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022_documents'
down_revision = '0021_usager_phon_key'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ref_type_document_obligatoire',
    sa.Column('type_document_id', sa.Integer(), nullable=False),
    sa.Column('categorie_etablissement_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['categorie_etablissement_id'], ['ref_categorie_etablissement.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['type_document_id'], ['ref_type_document.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('type_document_id', 'categorie_etablissement_id')
    )
    op.create_table('document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('usager_id', sa.Integer(), nullable=False),
    sa.Column('type_id', sa.Integer(), nullable=False),
    sa.Column('titre', sa.String(length=200), nullable=False),
    sa.Column('date_document', sa.Date(), nullable=True),
    sa.Column('expire_le', sa.Date(), nullable=True),
    sa.Column('categorie', sa.String(length=20), nullable=False),
    sa.Column('auteur_id', sa.Integer(), nullable=True),
    sa.Column('numero', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('archived_at', sa.DateTime(), nullable=True),
    sa.Column('archived_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['archived_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['auteur_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['type_id'], ['ref_type_document.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['usager_id'], ['usager.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_archived_at'), ['archived_at'], unique=False)
        batch_op.create_index('ix_document_expire_le', ['expire_le'], unique=False)
        batch_op.create_index('ix_document_usager', ['usager_id', 'type_id'], unique=False)

    op.create_table('document_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('usager_id', sa.Integer(), nullable=False),
    sa.Column('numero', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('taille', sa.Integer(), nullable=False),
    sa.Column('type_mime', sa.String(length=100), nullable=False),
    sa.Column('fichier', sa.String(length=200), nullable=False),
    sa.Column('nom_origine', sa.String(length=120), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['usager_id'], ['usager.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('document_version', schema=None) as batch_op:
        batch_op.create_index('ix_document_version_numero', ['document_id', 'numero'], unique=True)

    with op.batch_alter_table('ref_type_document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('categorie', sa.String(length=20), server_default='administratif', nullable=False))
        batch_op.add_column(sa.Column('expire', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('retention_years', sa.Integer(), nullable=True))
    # Types loaded before this revision get the category and expiry the reference list now gives
    # them (the mandatory links are seeded by `sillage init`, see services/referentiels.py).
    types = sa.table('ref_type_document', sa.column('code', sa.String), sa.column('categorie', sa.String),
                     sa.column('expire', sa.Boolean))
    for code, categorie, expire in (("ordonnance", "medical", False), ("compte_rendu", "social_educatif", False),
                                    ("projet_personnalise", "social_educatif", False),
                                    ("identite", "administratif", True), ("notification_mdph", "administratif", True),
                                    ("attestation_droits", "administratif", True)):
        op.execute(types.update().where(types.c.code == code).values(categorie=categorie, expire=expire))



def downgrade():
    with op.batch_alter_table('ref_type_document', schema=None) as batch_op:
        batch_op.drop_column('retention_years')
        batch_op.drop_column('expire')
        batch_op.drop_column('categorie')

    with op.batch_alter_table('document_version', schema=None) as batch_op:
        batch_op.drop_index('ix_document_version_numero')

    op.drop_table('document_version')
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_index('ix_document_usager')
        batch_op.drop_index('ix_document_expire_le')
        batch_op.drop_index(batch_op.f('ix_document_archived_at'))

    op.drop_table('document')
    op.drop_table('ref_type_document_obligatoire')
