"""Usager search with and without the search index (migration 0029), at several data sizes.

    python -m bench.search --database-url URL [--database-url URL ...] [--requests 30] [--query mar ...]
                           [--profile benchmark]

Each URL is a database already loaded (`flask sillage demo` then `flask sillage generate --usagers N`;
--prepare N does it first for one URL). Timed in process, for each common query:
- `search_usagers` as the system (no scope): the query alone;
- the search page `/usagers/?q=` signed in as `direction` (organisation-wide) and as
  `secretaire.tilleuls` (one établissement): query, scope, audit and template.
With --profile benchmark the databases hold `generate --profile benchmark --scale S` (ten
établissements whatever the scale): the one-établissement secretary is then `secretaire.benchmark`
(EHPAD Benchmark 1, made on first use by bench/load_accounts.py `benchmark_secretary`).
"Before" is the LIKE scan: on SQLite SILLAGE_SEARCH_INDEX off, alternated request by request with
the index on; on PostgreSQL the trigram index dropped (phases index / no index / index again,
the last to show drift, after a warm-up phase not counted). Medians in ms.
"""
from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def signed_in(app, username):
    """A test client holding a server-side session for `username`, as a completed login leaves."""
    from sqlalchemy import insert

    from app.extensions import db
    from app.models import User, WebSession
    from app.models.base import utcnow
    from app.security.sessions import digest, serializer

    with app.app_context():
        user = db.session.query(User).filter_by(username=username).one()
        sid, now = secrets.token_urlsafe(32), utcnow()
        data = serializer.dumps({"_user_id": str(user.id), "_fresh": True, "_id": "bench"})
        with db.engine.begin() as conn:
            conn.execute(insert(WebSession.__table__).values(id=digest(sid), user_id=user.id, kind="web", data=data,
                                                              created_at=now, last_seen_at=now))
        db.session.remove()
    client = app.test_client()
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], sid)
    return client


def timed(call):
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def measures(app, queries, users):
    """{(what, query): [ms, ...]} for the three kinds of search."""
    from app.extensions import db
    from app.services.usagers import search_usagers

    clients = {user: signed_in(app, user) for user in users}
    results = {}
    for q in queries:
        def direct(q=q):
            with app.app_context():
                search_usagers(db.session, q=q)
                db.session.remove()
        results[("search_usagers", q)] = direct
        for user, client in clients.items():
            def page(client=client, q=q):
                response = client.get(f"/usagers/?q={q}")
                assert response.status_code == 200, response.status_code
            results[(f"page {user}", q)] = page
    return results


def run_sqlite(app, queries, requests, users):
    calls = measures(app, queries, users)
    table = {}
    for key, call in calls.items():
        before, after = [], []
        call()  # warm
        for i in range(requests):  # alternated: the machine's noise falls on both
            for indexed in ((True, False) if i % 2 else (False, True)):
                app.config["SILLAGE_SEARCH_INDEX"] = indexed
                (after if indexed else before).append(timed(call))
        app.config["SILLAGE_SEARCH_INDEX"] = True
        table[key] = (statistics.median(before), statistics.median(after), statistics.median(after))
    return table


def run_postgresql(app, queries, requests, users):
    from sqlalchemy import text

    from app.extensions import db

    calls = measures(app, queries, users)

    def phase():
        out = {}
        for key, call in calls.items():
            call()
            out[key] = statistics.median(timed(call) for _ in range(requests))
        return out

    def ddl(statement):
        with app.app_context():
            with db.engine.begin() as conn:
                conn.execute(text(statement))
                conn.execute(text("ANALYZE usager"))
            db.session.remove()

    phase()  # warm-up (cold caches, first plans): not counted
    indexed = phase()
    ddl("DROP INDEX ix_usager_search_trgm")
    try:
        scanned = phase()
    finally:
        ddl("CREATE INDEX ix_usager_search_trgm ON usager USING gin (search_text gin_trgm_ops) WITH (fastupdate = off)")
    again = phase()
    return {key: (scanned[key], indexed[key], again[key]) for key in calls}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", action="append", required=True)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--query", action="append")
    parser.add_argument("--prepare", type=int, help="load this many usagers in the (single, empty) database first")
    parser.add_argument("--profile", choices=["benchmark"],
                        help="the databases hold generate --profile benchmark: the secretary is secretaire.benchmark")
    args = parser.parse_args()
    queries = args.query or ["mar", "bernard", "dubois ma"]
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ["RATELIMIT_ENABLED"] = "0"
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.models import Usager

    print("| database | usagers | what | query | before (LIKE) ms | after (index) ms | after, again ms |")
    print("|---|---|---|---|---|---|---|")
    for url in args.database_url:
        if args.prepare:
            env = {**os.environ, "DATABASE_URL": url}
            flask = [sys.executable, "-m", "flask", "--app", "run.py"]
            for cmd in (["db", "upgrade"], ["sillage", "init"], ["sillage", "demo", "--password", "bench-password-2026"],
                        ["sillage", "generate", "--usagers", str(args.prepare), "--seed", "3"]):
                subprocess.run(flask + cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        app = create_app(SQLALCHEMY_DATABASE_URI=url)
        with app.app_context():
            count = db.session.execute(select(func.count(Usager.id))).scalar()
            kind = db.engine.dialect.name
            db.session.remove()
        users = ["direction", "secretaire.tilleuls"]
        if args.profile == "benchmark":
            from bench.load_accounts import benchmark_secretary

            users[1] = benchmark_secretary(app, "bench-password-2026")
        table = (run_sqlite if kind == "sqlite" else run_postgresql)(app, queries, args.requests, users)
        for (what, q), (before, after, again) in table.items():
            print(f"| {kind} | {count} | {what} | {q} | {before:.1f} | {after:.1f} | {again:.1f} |", flush=True)
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
