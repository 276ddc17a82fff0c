"""Database upkeep after bulk loads and on a schedule: planner statistics and the search index.

Without statistics SQLite's planner guesses: it picked indexes on all-NULL `archived_at` columns
and scanned (issue 20). `ANALYZE` gives both databases row counts and value spreads; on SQLite
`PRAGMA optimize` keeps them current cheaply and the FTS5 search index (migration 0029) is merged
into one b-tree, which a bulk load leaves in many segments. Called by `flask sillage maintenance`,
and at the end of `flask sillage generate` and `flask sillage demo`.
"""
from __future__ import annotations

from sqlalchemy import text

from ..models.usager import SEARCH_INDEX_TABLE


def refresh_statistics(session) -> list[str]:
    """Run the upkeep statements of the session's database → the statements run (for the CLI)."""
    if session.get_bind().dialect.name == "sqlite":
        statements = ["ANALYZE", "PRAGMA optimize",
                      f"INSERT INTO {SEARCH_INDEX_TABLE}({SEARCH_INDEX_TABLE}) VALUES ('optimize')"]
    else:
        statements = ["ANALYZE"]
    for statement in statements:
        session.execute(text(statement))
    session.commit()
    return statements
