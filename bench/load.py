"""Load: staff doing their daily work on two app servers over one PostgreSQL database (issue 20).

    pip install -r bench/requirements.txt          # locust, by hand: not an application dependency
    python -m bench.load --database-url postgresql://postgres@127.0.0.1:5432/bench_load --users 50 --duration 60
    python -m bench.load --sqlite --users 50 --duration 60      # one server over a SQLite file, to compare

The database named by --database-url is dropped and made again (its name must contain "bench"):
migrations, the demo organisation, `generate --usagers N`, then one account per simulated user
(half Soin, half Secrétariat, all of the EHPAD) with a personal API token. Two gunicorn servers
(--workers each) serve it; locust (headless, in this process) runs --users users, each signed in
through the real login (password + TOTP) and sending every request to either server at random, as
a load balancer without sticky sessions would. What they do, with no pause between requests:

- the usager search page and the dossier page;
- API reads (a dossier, its evaluations), with the personal token;
- Soin: an AGGIR saved and validated through its page;
- Secrétariat: a versioned API write (GET the dossier, PUT `adresse` = "Banc d'essai n° k+1" with the
  version read); a 409 (someone saved meanwhile) is the expected answer of a conflict, not an error.

At the end it checks, in the database, that no update was lost (each written dossier's counter and
version moved by exactly its accepted writes; validated AGGIRs = accepted saves), runs
`flask sillage audit verify` with every server's anchor file, and prints throughput, p50/p95/p99
per kind of request and errors.
"""
from __future__ import annotations

from gevent import monkey

monkey.patch_all()  # before requests and ssl are imported (locust needs it)

import argparse  # noqa: E402
import collections  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
import pyotp  # noqa: E402
from locust import FastHttpUser, constant, task  # noqa: E402
from locust.env import Environment  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from tests.multi_server import PASSWORD, ROOT, TOTP_SECRET, environment, flask, prepare, start_servers  # noqa: E402

from .workload import AGGIR, counters, fresh_postgresql, next_adresse  # noqa: E402

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Plan:
    """What the simulated users share: servers, accounts, usagers, and what the servers accepted."""

    servers: list[str] = []
    accounts: list[dict] = []
    usagers: list[int] = []
    writable: list[int] = []  # the dossiers the secretaries edit (few: they collide)
    names: list[str] = []
    signed_in = 0
    writes = collections.Counter()  # usager id → accepted PUTs, since the start (sign-in phase included)
    window_writes = 0  # accepted PUTs in the measured window
    conflicts = 0
    aggir_saved = 0


def _url(path: str) -> str:
    return random.choice(Plan.servers) + path


class Staff(FastHttpUser):
    wait_time = constant(0)
    host = "http://127.0.0.1"

    def on_start(self):
        self.account = Plan.accounts.pop()
        self.api = {"Authorization": f"Bearer {self.account['token']}"}
        base = random.choice(Plan.servers)
        page = self.client.get(base + "/login/", name="connexion")
        page = self.client.post(base + "/login/", name="connexion", data={
            "username": self.account["username"], "password": PASSWORD, "csrf_token": CSRF.search(page.text).group(1)})
        code = pyotp.TOTP(TOTP_SECRET).now()
        done = self.client.post(base + "/login/code", name="connexion", data={
            "code": code, "csrf_token": CSRF.search(page.text).group(1)})
        if "/login/" in done.url:
            raise RuntimeError(f"sign-in refused for {self.account['username']}")
        Plan.signed_in += 1

    def _page(self, path, name):
        with self.client.get(_url(path), name=name, catch_response=True) as response:
            if response.status_code != 200 or "/login/" in (response.url or ""):
                response.failure(f"{response.status_code} {response.url}")
            return response

    @task(3)
    def search(self):
        self._page(f"/usagers/?q={random.choice(Plan.names)[:3]}", "page : recherche")

    @task(4)
    def dossier(self):
        self._page(f"/dossier/{random.choice(Plan.usagers)}", "page : dossier")

    @task(2)
    def api_reads(self):
        usager = random.choice(Plan.usagers)
        self.client.get(_url(f"/api/v1/usager/{usager}"), headers=self.api, name="api : dossier")
        self.client.get(_url(f"/api/v1/usager/{usager}/evaluations"), headers=self.api, name="api : évaluations")

    @task(2)
    def write(self):
        if self.account["role"] == "Soin":
            self._save_aggir()
        else:
            self._versioned_put()

    def _save_aggir(self):
        usager = random.choice(Plan.usagers)
        path = f"/dossier/{usager}/evaluations/nouvelle/aggir"
        page = self._page(path, "page : grille AGGIR")
        if page.status_code != 200:
            return
        version = re.search(r'name="form_version"[^>]*value="(\d+)"', page.text).group(1)
        data = {**{f"a-{code}": value for code, value in AGGIR.items()}, "form_version": version,
                "action": "validate", "csrf_token": CSRF.search(page.text).group(1)}
        with self.client.post(_url(path), data=data, name="page : AGGIR enregistrée", allow_redirects=False,
                              catch_response=True) as response:
            if response.status_code == 302:
                Plan.aggir_saved += 1
            else:
                response.failure(f"{response.status_code}")

    def _versioned_put(self):
        usager = random.choice(Plan.writable)
        read = self.client.get(_url(f"/api/v1/usager/{usager}"), headers=self.api, name="api : dossier")
        if read.status_code != 200:
            return
        result = read.json()["result"]
        with self.client.put(_url(f"/api/v1/usager/{usager}"), headers=self.api, name="api : écriture versionnée",
                             json={"version": result["version"], "adresse": next_adresse(result.get("adresse"))},
                             catch_response=True) as response:
            if response.status_code == 200:
                Plan.writes[usager] += 1
                Plan.window_writes += 1
            elif response.status_code == 409:  # someone saved since our read: refused, as it must be
                Plan.conflicts += 1
                response.success()
            else:
                response.failure(f"{response.status_code} {response.text[:200]}")


def report(env, seconds: float, servers: int, workers: int, args) -> int:
    stats = env.stats
    print(f"\n{args.users} users, {servers} server(s) × {workers} workers, {seconds:.0f} s "
          f"({'SQLite' if args.sqlite else 'PostgreSQL'}; shared 2-core machine: figures are noisy)")
    print(f"{'request':32} {'count':>7} {'fail':>5} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6}  (ms)")
    for name in sorted(stats.entries, key=lambda k: k[0]):
        entry = stats.entries[name]
        if not entry.num_requests:
            continue
        print(f"{name[0]:32} {entry.num_requests:7} {entry.num_failures:5} {entry.num_requests / seconds:7.1f} "
              f"{entry.get_response_time_percentile(0.5):6.0f} {entry.get_response_time_percentile(0.95):6.0f} "
              f"{entry.get_response_time_percentile(0.99):6.0f}")
    total = stats.total
    print(f"{'total':32} {total.num_requests:7} {total.num_failures:5} {total.num_requests / seconds:7.1f} "
          f"{total.get_response_time_percentile(0.5):6.0f} {total.get_response_time_percentile(0.95):6.0f} "
          f"{total.get_response_time_percentile(0.99):6.0f}")
    for error in stats.errors.values():
        print(f"error: {error.occurrences} × {error.method} {error.name}: {error.error}")
    return total.num_failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL database to (re)create, its name containing 'bench'")
    parser.add_argument("--sqlite", action="store_true", help="one server over a temporary SQLite file instead")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=60, help="seconds measured, after every user signed in")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--usagers", type=int, default=1000, help="usagers generated")
    parser.add_argument("--writable", type=int, default=20, help="dossiers the secretaries edit")
    args = parser.parse_args()
    if not args.sqlite and not args.database_url:
        parser.error("--database-url or --sqlite")
    workdir = tempfile.mkdtemp(prefix="sillage-load-")
    url = f"sqlite:///{workdir}/load.db" if args.sqlite else args.database_url
    if not args.sqlite:
        fresh_postgresql(url)
    print(f"preparing {url} ({args.usagers} usagers)…", flush=True)
    prepare(url, workdir, generate=args.usagers)
    made = subprocess.run([sys.executable, "-m", "bench.load_accounts", str(args.users), PASSWORD, TOTP_SECRET],
                          cwd=ROOT, env=environment(url, workdir, "setup"), capture_output=True, text=True, check=True)
    plan = json.loads(made.stdout)
    Plan.accounts, Plan.usagers, Plan.names = plan["accounts"], plan["usagers"], plan["names"]
    Plan.writable = random.Random(1).sample(Plan.usagers, min(args.writable, len(Plan.usagers)))
    engine = create_engine(url)
    before = counters(engine, Plan.writable)
    servers = start_servers(url, workdir, ["a"] if args.sqlite else ["a", "b"], workers=args.workers)
    Plan.servers = [s.url for s in servers]
    failures = 1
    try:
        # At the end every user finishes the request it is in: a save cut short after the server
        # committed it would be missing from the counts compared below.
        env = Environment(user_classes=[Staff], stop_timeout=60)
        runner = env.create_local_runner()
        runner.start(args.users, spawn_rate=args.users)
        deadline = time.time() + 120
        while Plan.signed_in < args.users and time.time() < deadline:
            gevent.sleep(0.5)
        env.stats.reset_all()  # measure the work, not the sign-ins
        Plan.window_writes = Plan.conflicts = 0
        saved_before = Plan.aggir_saved
        started = time.time()
        gevent.sleep(args.duration)
        runner.stop()
        seconds = time.time() - started
        runner.quit()
        failures = report(env, seconds, len(servers), args.workers, args)
    finally:
        for server in servers:
            server.stop()
    # Every write accepted since the first user started (some while others were still signing in).
    after = counters(engine, Plan.writable)
    lost = []
    for usager in Plan.writable:
        (v0, c0), (v1, c1) = before[usager], after[usager]
        if v1 - v0 != Plan.writes[usager] or c1 - c0 != Plan.writes[usager]:
            lost.append((usager, v1 - v0, c1 - c0, Plan.writes[usager]))
    with engine.connect() as conn:
        validated = conn.execute(text(
            "SELECT count(*) FROM evaluation e JOIN ab_user u ON u.id = e.created_by_id "
            "WHERE u.username LIKE 'bench.soin.%' AND e.status = 'validated'")).scalar()
    engine.dispose()
    print(f"versioned writes accepted: {Plan.window_writes} in the window ({sum(Plan.writes.values())} in all), "
          f"conflicts answered 409: {Plan.conflicts}; AGGIR validated in the window: {Plan.aggir_saved - saved_before}")
    print(f"lost updates: {len(lost)}" + (f" {lost}" if lost else " (every written dossier's version and counter "
                                                                      "moved by exactly its accepted writes)"))
    print(f"AGGIR rows validated by the bench accounts: {validated}, saves accepted: {Plan.aggir_saved}"
          + (" — MISMATCH" if validated != Plan.aggir_saved else ""))
    anchors = [a for s in servers for a in ("--anchor", s.anchor)]
    anchors += ["--anchor", environment(url, workdir, "setup")["SILLAGE_AUDIT_ANCHOR"]]
    verdict = flask(environment(url, workdir, "setup"), "sillage", "audit", "verify", *anchors, check=False)
    print((verdict.stdout or verdict.stderr).strip())
    shutil.rmtree(workdir, ignore_errors=True)
    return 0 if not failures and not lost and validated == Plan.aggir_saved and verdict.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
