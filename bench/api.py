"""Latency of the REST API's list of usagers (page 3 of 100, `GET /api/v1/usager/`) against a bare
Flask route returning the same number of bytes, served by the same kind of gunicorn (one sync
worker) in the same run, requests alternated so that all see the same drift of a noisy machine.

Rows: the list as an organisation-wide role (admin) and as a one-établissement secretary
(`secretaire.tilleuls`), with scope and read audit on; FAB's own default `ModelRestApi` on the
same model and columns, no scope, no audit (bench/api_wsgi.py); and the bare route.

    python -m bench.api [--usagers 3000] [--requests 200] [--database-url URL] [--prepared]
                        [--compare /work/main]

`--compare DIR` serves the same database a second time with the Sillage code of DIR (e.g. the
main branch's checkout): "before" and "after" rows, paired request by request. `--against URL`
serves a second, prepared database (e.g. 30,000 usagers against 3,000) with the same code:
its rows alternate with the first's, so their ratio is measured under the same load. Without
--database-url a temporary SQLite database is built (migrations, demo, generate); with
`--prepared` the database already holds an earlier run's data (30,000 usagers take minutes).
Clients carry a JWT (as the API login gives), minted here for a server-side API session.
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from .pages import prepare, summary

ROOT = Path(__file__).resolve().parent.parent
LIST = "/api/v1/usager/?q=(page:3,page_size:100)"
DEFAULT_LIST = "/api/v1/bench_default_usager/?q=(page:3,page_size:100)"


def start_server(env, port, code_dir):
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}",
         "--chdir", str(code_dir), "--pythonpath", str(ROOT / "bench"), "api_wsgi:app"],
        cwd=code_dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(150):
        try:
            requests.get(f"http://127.0.0.1:{port}/__floor_json/10", timeout=30)
            return process
        except requests.ConnectionError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"server ({code_dir}) did not start")


def tokens(env, usernames) -> dict:
    """A JWT per account, as `/api/v1/security/login` gives (the login's second factor is tested
    in tests/test_auth.py): a server-side API session and a token carrying its id."""
    os.environ.update({k: env[k] for k in ("SECRET_KEY", "DATABASE_URL", "SILLAGE_DATA_DIR", "RATELIMIT_ENABLED")})
    from flask_jwt_extended import create_access_token

    from app import create_app
    from app.extensions import db
    from app.models import User
    from app.security.sessions import open_api_session

    app = create_app(SQLALCHEMY_DATABASE_URI=env["DATABASE_URL"])
    found = {}
    with app.test_request_context():
        for name in usernames:
            user = db.session.query(User).filter_by(username=name).one()
            found[name] = create_access_token(identity=str(user.id), additional_claims={"sid": open_api_session(user.id)})
        db.session.remove()
        db.engine.dispose()
    return found


def timed(session, url, headers=None) -> tuple[float, int]:
    start = time.perf_counter()
    response = session.get(url, headers=headers)
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, (url, response.status_code, response.text[:300])
    return elapsed, len(response.content)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--usagers", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url")
    parser.add_argument("--prepared", action="store_true")
    parser.add_argument("--compare", help="a checkout of Sillage to serve as 'before' (e.g. /work/main)")
    parser.add_argument("--users", default="admin,secretaire.tilleuls")
    parser.add_argument("--against", help="a second prepared database, served with the same code")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="sillage-bench-api-")
    env = {**os.environ, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": "0", "SILLAGE_DATA_DIR": f"{tmp}/data",
           "DATABASE_URL": args.database_url or f"sqlite:///{tmp}/bench.db"}
    if args.prepared and not args.database_url:
        parser.error("--prepared needs --database-url")
    if not args.prepared:
        print(f"Preparing {args.usagers} usagers in {env['DATABASE_URL']} ...", flush=True)
        prepare(env, args.usagers)
    users = args.users.split(",")
    jwt = tokens(env, users)
    port = random.randint(20000, 40000)
    servers = {"after": (start_server(env, port, ROOT), f"http://127.0.0.1:{port}")}
    if args.compare:
        servers["before"] = (start_server(env, port + 1, Path(args.compare).resolve()), f"http://127.0.0.1:{port + 1}")
    against = None
    if args.against:
        env2 = {**env, "DATABASE_URL": args.against}
        against = (start_server(env2, port + 2, ROOT), f"http://127.0.0.1:{port + 2}", tokens(env2, users))
    try:
        http = requests.Session()
        rows = []  # (label, base, path, headers)
        for name in users:
            headers = {"Authorization": f"Bearer {jwt[name]}"}
            for which, (_p, base) in servers.items():
                rows.append((f"{name} ({which})", base, LIST, headers))
            if against:
                rows.append((f"{name} (after, 2nd db)", against[1], LIST, {"Authorization": f"Bearer {against[2][name]}"}))
        first = users[0]
        rows.append((f"FAB default, {first}", servers["after"][1], DEFAULT_LIST, {"Authorization": f"Bearer {jwt[first]}"}))
        sizes = {}
        for label, base, path, headers in rows:  # warm up, and the size of each answer
            for _ in range(10):
                sizes[label] = timed(http, base + path, headers)[1]
        floors = {size: f"{servers['after'][1]}/__floor_json/{size}" for size in set(sizes.values())}
        for url in floors.values():
            for _ in range(10):
                timed(http, url)
        times = {label: [] for label, *_ in rows}
        floor_times = {size: [] for size in floors}
        for _ in range(args.requests):  # alternate every row and every floor
            for label, base, path, headers in rows:
                times[label].append(timed(http, base + path, headers)[0])
            for size, url in floors.items():
                floor_times[size].append(timed(http, url)[0])
        print(f"{env['DATABASE_URL'].split('@')[-1]}, {args.requests} requests per row, {LIST}")
        print(f"{'row':<36}{'bytes':>9}{'median ms':>11}{'p95 ms':>9}{'floor med':>11}{'ratio':>8}")
        medians = {}
        for label, *_ in rows:
            med, p95 = summary(times[label])
            fmed, _fp95 = summary(floor_times[sizes[label]])
            medians[label] = med
            print(f"{label:<36}{sizes[label]:>9}{med:>11.1f}{p95:>9.1f}{fmed:>11.1f}{med / fmed:>7.1f}×")
        for name in users:
            if args.compare:
                print(f"{name}: before/after {medians[f'{name} (before)'] / medians[f'{name} (after)']:.2f}×")
            if against:
                print(f"{name}: 2nd db/1st db (after) {medians[f'{name} (after, 2nd db)'] / medians[f'{name} (after)']:.2f}×"
                      f"  ({args.against.split('@')[-1]})")
    finally:
        for process in [p for p, _base in servers.values()] + ([against[0]] if against else []):
            process.terminate()
            process.wait()


if __name__ == "__main__":
    main()
