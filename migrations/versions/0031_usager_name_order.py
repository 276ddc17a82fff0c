"""Usager lists in name order from an index: a page of a common search walks it and stops

Revision ID: 0031_usager_name_order
Revises: 0030_etablissement_logo
Create Date: 2026-12-04 08:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0031_usager_name_order'
down_revision = '0030_etablissement_logo'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_usager_name_order', 'usager', ['nom_naissance', 'premier_prenom_naissance', 'id'])


def downgrade():
    op.drop_index('ix_usager_name_order', table_name='usager')
