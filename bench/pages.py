"""Latency of the usager search page and the dossier page at 3,000 usagers, against a bare Flask
route returning the same number of bytes, served by the same gunicorn in the same run.

A third row, "signed-in frame", serves the dossier's bytes after only what any dossier request
must do (session, user, guards, one scoped usager load, read audit; see bench/wsgi.py): the part
of the ratio that no page content can remove. The dossier and search pages' ratios to that frame
(issue 20's target 3: at most 3×) come from page and frame requests alternated, as each row's
floor is.

    python -m bench.pages [--usagers 3000] [--requests 200] [--database-url URL [--prepared]]
                          [--profile benchmark [--scale 0.1] [--etablissements N]] [--user NAME]

It also measures the cost of the read audit: the dossier page on a second server started with
SILLAGE_AUDIT_READS=0, requests alternated between the two, in the same run
(BENCH_QUIET_AUDIT=1 turns the audit on in both: the control, which should read about 0%).

Without --database-url a temporary SQLite database is built (migrations, demo, generate).
With --profile benchmark the data is `generate --profile benchmark --scale S [--etablissements N]`
and the user, unless told, the one-établissement secretary of that data (secretaire.benchmark,
EHPAD Benchmark 1, made on first use by bench/load_accounts.py `benchmark_secretary`).
"""
from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench.load_accounts import BENCHMARK_SECRETARY, benchmark_secretary

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-2026"
TOTP_SECRET = "BENCHBENCHBENCHBENCHBENCHBENCH22"


def run(cmd, env):
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def prepare(env, usagers, profile=None, scale=0.1, etablissements=None):
    flask = [sys.executable, "-m", "flask", "--app", "run.py"]
    run(flask + ["db", "upgrade"], env)
    run(flask + ["sillage", "init"], env)
    run(flask + ["sillage", "demo", "--password", PASSWORD, "--totp-secret", TOTP_SECRET], env)
    if profile == "benchmark":
        run(flask + ["sillage", "generate", "--profile", "benchmark", "--scale", str(scale), "--seed", "3"]
            + (["--etablissements", str(etablissements)] if etablissements else []), env)
    else:
        run(flask + ["sillage", "generate", "--usagers", str(usagers), "--seed", "3"], env)


def benchmark_user(env) -> str:
    """The one-établissement secretary of the benchmark data, enrolled like the demo accounts."""
    from app import create_app

    os.environ.setdefault("SECRET_KEY", env["SECRET_KEY"])
    app = create_app(SQLALCHEMY_DATABASE_URI=env["DATABASE_URL"])
    try:
        return benchmark_secretary(app, PASSWORD, TOTP_SECRET)
    finally:
        with app.app_context():
            from app.extensions import db

            db.engine.dispose()


def start_server(env, port):
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}", "bench.wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            requests.get(f"http://127.0.0.1:{port}/login/", timeout=30)
            return process
        except requests.ConnectionError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def login(base, username, step_offset=0):
    """Password, then the TOTP code (a step not used yet: the server refuses replays)."""
    import pyotp

    session = requests.Session()
    csrf = lambda page: re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # noqa: E731
    token = csrf(session.get(f"{base}/login/").text)
    response = session.post(f"{base}/login/", data={"username": username, "password": PASSWORD, "csrf_token": token})
    response.raise_for_status()
    code = pyotp.TOTP(TOTP_SECRET).at(time.time() + 30 * step_offset)
    # (the redirect not followed: the home page is not what is measured, and the direction's
    # dashboard outlasts gunicorn's 30 s at 30,000 usagers)
    response = session.post(f"{base}/login/code", data={"code": code, "csrf_token": csrf(response.text)},
                            allow_redirects=False)
    assert response.status_code in (302, 303) and "/login/" not in response.headers["Location"], \
        "second factor refused"
    return session


def measure(session, urls):
    times, sizes = [], []
    for url in urls:
        start = time.perf_counter()
        response = session.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        sizes.append(len(response.content))
    return times, sizes


def summary(times):
    ordered = sorted(times)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--usagers", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url")
    parser.add_argument("--user", help="secretaire.tilleuls, or secretaire.benchmark with --profile benchmark")
    parser.add_argument("--profile", choices=["benchmark"], help="the data of generate --profile benchmark")
    parser.add_argument("--scale", type=float, default=0.1, help="with --profile benchmark (to prepare)")
    parser.add_argument("--etablissements", type=int, help="with --profile benchmark (to prepare)")
    parser.add_argument("--prepared", action="store_true",
                        help="the database already holds the data of an earlier run (with --database-url; leave a minute between runs: the second factor refuses a code used twice)")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="sillage-bench-")
    env = {**os.environ, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": "0", "SILLAGE_DATA_DIR": f"{tmp}/data",
           "DATABASE_URL": args.database_url or f"sqlite:///{tmp}/bench.db"}
    if args.prepared and not args.database_url:
        parser.error("--prepared needs --database-url")
    if not args.prepared:
        print(f"Preparing {args.usagers} usagers in {env['DATABASE_URL']} ...", flush=True)
        prepare(env, args.usagers, args.profile, args.scale, args.etablissements)
    if args.profile == "benchmark" and args.user in (None, BENCHMARK_SECRETARY):
        args.user = benchmark_user(env)
    args.user = args.user or "secretaire.tilleuls"
    port = random.randint(20000, 40000)
    server = start_server(env, port)
    quiet = start_server({**env, "SILLAGE_AUDIT_READS": os.environ.get("BENCH_QUIET_AUDIT", "0")}, port + 1)
    base, quiet_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"
    try:
        session = login(base, args.user, 0)
        quiet_session = login(quiet_base, args.user, 1)
        search_page = session.get(f"{base}/usagers/").text
        ids = [int(i) for i in re.findall(r'href="/dossier/(\d+)"', search_page)]
        listing = session.get(f"{base}/api/v1/usager/?q=(page_size:100)").json()
        ids = sorted(set(ids) | {u["id"] for u in listing["result"]})
        rng = random.Random(1)
        names = ["martin", "ber", "le", "dubois", "an", "petit", "ma"]
        search_urls = [f"{base}/usagers/?q={rng.choice(names)}&page={rng.randint(1, 3)}" for _ in range(args.requests)]
        dossier_urls = [f"{base}/dossier/{rng.choice(ids)}" for _ in range(args.requests)]
        for urls in (search_urls[:10], dossier_urls[:10]):  # warm up
            measure(session, urls)
        print(f"{'page':<22}{'bytes':>9}{'median ms':>11}{'p95 ms':>9}{'floor med':>11}{'floor p95':>11}{'ratio':>8}")
        bare = requests.Session()
        size = int(statistics.median(measure(session, dossier_urls[:20])[1]))
        frame_urls = [url.replace("/dossier/", "/__frame/") + f"/{size}" for url in dossier_urls]
        measure(session, frame_urls[:10])
        for label, urls in (("usager search", search_urls), ("dossier", dossier_urls), ("signed-in frame", frame_urls)):
            size = int(statistics.median(measure(session, urls[:20])[1]))
            times, floor_times = [], []
            for url in urls:  # alternate page and floor: both see the same drift of a noisy machine
                times += measure(session, [url])[0]
                floor_times += measure(bare, [f"{base}/__floor/{size}"])[0]  # a bare route, same bytes
            med, p95 = summary(times)
            fmed, fp95 = summary(floor_times)
            print(f"{label:<22}{size:>9}{med:>11.1f}{p95:>9.1f}{fmed:>11.1f}{fp95:>11.1f}{med / fmed:>7.1f}×")
        search_size = int(statistics.median(measure(session, search_urls[:20])[1]))
        search_frames = [url.replace("/dossier/", "/__frame/") + f"/{search_size}" for url in dossier_urls]
        for label, urls, frames in (("dossier page", dossier_urls, frame_urls),
                                    ("search page", search_urls, search_frames)):  # (frames of the same bytes)
            page_times, frame_times = [], []
            for url, frame_url in zip(urls, frames):  # the target's ratio, alternated likewise
                page_times += measure(session, [url])[0]
                frame_times += measure(session, [frame_url])[0]
            a, b = statistics.median(page_times), statistics.median(frame_times)
            print(f"{label} / signed-in frame, alternated: {a:.1f} / {b:.1f} ms (medians) -> {a / b:.2f}×")
        with_audit, without = [], []
        quiet_urls = [u.replace(base, quiet_base) for u in dossier_urls]
        measure(quiet_session, quiet_urls[:10])
        for _round in range(3):
            for url, quiet_url in zip(dossier_urls, quiet_urls):  # alternate: both see the same drift
                with_audit += measure(session, [url])[0]
                without += measure(quiet_session, [quiet_url])[0]
        a, b = statistics.median(with_audit), statistics.median(without)
        print(f"dossier page, read audit on: {a:.1f} ms, off: {b:.1f} ms (medians) -> overhead {100 * (a - b) / b:+.1f}%")
    finally:
        for process in (server, quiet):
            process.terminate()
            process.wait()


if __name__ == "__main__":
    main()
