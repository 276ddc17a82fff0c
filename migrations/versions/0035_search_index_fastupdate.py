"""The trigram search index written at once (PostgreSQL `fastupdate = off`)

With GIN's default fast update, new entries wait in a pending list that every search reads
whole, until autovacuum merges them: after a bulk load, or thousands of dossier edits between two
autoanalyzes, finding « martin » among 3,000 usagers read it for 1.3 ms instead of 0.05 ms
(issue 20). A dossier edit now updates the index itself; the pending list is merged here.

Revision ID: 0035_search_index_fastupdate
Revises: 0034_portail_reinitialisation
Create Date: 2026-12-04 20:55:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0035_search_index_fastupdate'
down_revision = '0034_portail_reinitialisation'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX ix_usager_search_trgm SET (fastupdate = off)")
        op.execute("SELECT gin_clean_pending_list('ix_usager_search_trgm'::regclass)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX ix_usager_search_trgm RESET (fastupdate)")
