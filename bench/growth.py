"""The search page at two data sizes, requests alternated between them in one process (issue 20's
target 2: at 30,000 usagers within 1.3× of its time at 3,000).

    python -m bench.growth --small URL --large URL [--requests 30] [--query mar ...] [--moving] [--user U ...]

Each URL holds `flask sillage demo` then `flask sillage generate --profile benchmark --scale S`
(0.1 and 1; `--etablissements 100` on the large one keeps each établissement at the small one's
size, the fair test for a one-établissement user). Users: `direction` (the whole organisation) and
`secretaire.benchmark` (EHPAD Benchmark 1, made on first use); `--user` names others (e.g.
`secretaire.tilleuls` on `generate --usagers N` data, whose établissement grows with N).
Alternating the two databases request by request puts the noise of the machine on both sides of
each ratio. Medians in ms. A search asked again is answered from its kept page until the data
moves; `--moving` moves the data version before each request (any write by anyone does), so that
each one searches.
"""
from __future__ import annotations

import argparse
import os
import statistics

from .load_accounts import benchmark_secretary
from .search import signed_in, timed

PASSWORD = "bench-password-2026"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", required=True)
    parser.add_argument("--large", required=True)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--query", action="append")
    parser.add_argument("--moving", action="store_true", help="move the data version before each request")
    parser.add_argument("--user", action="append",
                        help="users to sign in as (default: direction and secretaire.benchmark)")
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ["RATELIMIT_ENABLED"] = "0"
    from app import create_app
    from app.extensions import db
    from app.security.stamp import move_data_version

    apps = [create_app(SQLALCHEMY_DATABASE_URI=url) for url in (args.small, args.large)]
    users = args.user or ["direction", benchmark_secretary(apps[0], PASSWORD)]
    if not args.user:
        benchmark_secretary(apps[1], PASSWORD)
    clients = [{user: signed_in(app, user) for user in users} for app in apps]
    print("| user | query | small ms (kB) | large ms (kB) | large / small |")
    print("|---|---|---|---|---|")
    for user in users:
        for q in args.query or ["mar", "bernard", "dubois ma", "martin"]:
            url, times, sizes = f"/usagers/?q={q}", ([], []), [0, 0]
            for side in (0, 1):  # warm
                clients[side][user].get(url)
            for i in range(args.requests):
                for side in ((0, 1) if i % 2 else (1, 0)):
                    if args.moving:  # (not timed)
                        with apps[side].app_context():
                            move_data_version(db.session)
                            db.session.remove()

                    def get(side=side):
                        response = clients[side][user].get(url)
                        assert response.status_code == 200, response.status_code
                        sizes[side] = len(response.data)
                    times[side].append(timed(get))
            small, large = statistics.median(times[0]), statistics.median(times[1])
            print(f"| {user} | {q} | {small:.1f} ({sizes[0] // 1000}) | {large:.1f} ({sizes[1] // 1000}) "
                  f"| {large / small:.2f}× |", flush=True)


if __name__ == "__main__":
    main()
