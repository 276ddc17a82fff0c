"""usager.phon_key: French phonetic key (Soundex2) of the birth name and first birth first name,
so that the duplicate check finds « Dupond Éric » for « DUPONT Eric » without reading the table

Revision ID: 0021_usager_phon_key
Revises: 0020_evaluation_corrects
Create Date: 2026-12-04 05:23:06

"""
from alembic import op
import sqlalchemy as sa

from app.domain.phonetic import phonetic_key


# revision identifiers, used by Alembic.
revision = '0021_usager_phon_key'
down_revision = '0020_evaluation_corrects'
branch_labels = None
depends_on = None

usager = sa.table('usager', sa.column('id', sa.Integer), sa.column('nom_naissance', sa.String),
                  sa.column('premier_prenom_naissance', sa.String), sa.column('anonymised_at', sa.DateTime),
                  sa.column('phon_key', sa.String))


def upgrade():
    with op.batch_alter_table('usager', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phon_key', sa.String(length=120), nullable=False, server_default=''))
        batch_op.create_index('ix_usager_phon_key', ['phon_key'], unique=False)
    # Existing dossiers get their key (anonymised ones keep '': they have no name left to match).
    conn = op.get_bind()
    rows = conn.execute(sa.select(usager.c.id, usager.c.nom_naissance, usager.c.premier_prenom_naissance)
                        .where(usager.c.anonymised_at.is_(None))).all()
    for start in range(0, len(rows), 1000):
        conn.execute(usager.update().where(usager.c.id == sa.bindparam('row_id')).values(phon_key=sa.bindparam('key')),
                     [{'row_id': r.id, 'key': phonetic_key(r.nom_naissance, r.premier_prenom_naissance)}
                      for r in rows[start:start + 1000]])
    with op.batch_alter_table('usager', schema=None) as batch_op:
        batch_op.alter_column('phon_key', server_default=None)


def downgrade():
    with op.batch_alter_table('usager', schema=None) as batch_op:
        batch_op.drop_index('ix_usager_phon_key')
        batch_op.drop_column('phon_key')
