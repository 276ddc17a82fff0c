"""Search index on usager.search_text: a trigram GIN index (pg_trgm) on PostgreSQL, an FTS5 table
with the trigram tokenizer kept in sync by triggers on SQLite (≥ 3.34)

Both answer the search's substring match (`search_text LIKE '%tok%'`, tokens of 3 characters or
more) without reading every row. The SQLite table is external-content (it stores only the index,
the text stays in usager) and is filled here from the existing rows.

Revision ID: 0029_search_index
Revises: 0028_messages
Create Date: 2026-12-04 07:05:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0029_search_index'
down_revision = '0028_messages'
branch_labels = None
depends_on = None

SQLITE_UP = [
    "CREATE VIRTUAL TABLE usager_fts USING fts5(search_text, content='usager', content_rowid='id', "
    "tokenize='trigram')",
    "CREATE TRIGGER usager_fts_ai AFTER INSERT ON usager BEGIN "
    "INSERT INTO usager_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER usager_fts_ad AFTER DELETE ON usager BEGIN "
    "INSERT INTO usager_fts(usager_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER usager_fts_au AFTER UPDATE OF search_text ON usager BEGIN "
    "INSERT INTO usager_fts(usager_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO usager_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO usager_fts(usager_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS usager_fts_au",
    "DROP TRIGGER IF EXISTS usager_fts_ad",
    "DROP TRIGGER IF EXISTS usager_fts_ai",
    "DROP TABLE IF EXISTS usager_fts",
]


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # The extension may already be there (made by a superuser beforehand, where the
        # application's role may not create extensions): IF NOT EXISTS, and never dropped below.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index("ix_usager_search_trgm", "usager", ["search_text"], unique=False,
                        postgresql_using="gin", postgresql_ops={"search_text": "gin_trgm_ops"})
    elif dialect == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.drop_index("ix_usager_search_trgm", table_name="usager", postgresql_using="gin")
    elif dialect == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
