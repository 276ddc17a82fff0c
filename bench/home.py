"""Home pages at several data sizes: the directors' dashboard (GMP, occupancy, PP deadlines, work
lists) reads the whole organisation, so it is the page that grows first with the data.

    python -m bench.home --database-url URL [--database-url URL ...] [--requests 5] [--user direction ...]

Each URL is a database already loaded (`flask sillage demo` then `flask sillage generate …`).
Timed in process, signed in as each user (default: direction, dpo): the home page's median and
minimum in ms, and the SQL statements of one request. The home keeps its organisation-wide
figures until the data moves; `--moving` moves the data version before each request, as any
write by anyone does (a busy organisation's case: nothing kept).
"""
from __future__ import annotations

import argparse
import os
import statistics

from .search import signed_in, timed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", action="append", required=True)
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--user", action="append")
    parser.add_argument("--moving", action="store_true", help="move the data version before each request")
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ["RATELIMIT_ENABLED"] = "0"
    from sqlalchemy import event, func, select

    from app import create_app
    from app.extensions import db
    from app.models import Usager
    from app.security.stamp import move_data_version

    print("| database | usagers | user | median ms | min ms | statements |")
    print("|---|---|---|---|---|---|")
    for url in args.database_url:
        app = create_app(SQLALCHEMY_DATABASE_URI=url)
        with app.app_context():
            count = db.session.execute(select(func.count(Usager.id))).scalar()
            engine, kind = db.engine, db.engine.dialect.name
            db.session.remove()
        for username in args.user or ["direction", "dpo"]:
            client = signed_in(app, username)
            assert client.get("/").status_code == 200  # (first request: caches filled)
            statements = []
            listener = lambda *a: statements.append(a[2])  # noqa: E731

            def request():
                if args.moving:
                    with app.app_context():
                        move_data_version(db.session)
                        db.session.remove()
                return timed(lambda: client.get("/"))

            event.listen(engine, "before_cursor_execute", listener)
            request()
            event.remove(engine, "before_cursor_execute", listener)
            times = [request() for _ in range(args.requests)]
            print(f"| {kind} | {count} | {username} | {statistics.median(times):.0f} | {min(times):.0f} "
                  f"| {len(statements)} |", flush=True)
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
