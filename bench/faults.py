"""Faults: `kill -9` of gunicorn workers in the middle of writes, and a backup taken under that load
(issue 20, target 8). By hand:

    python -m bench.faults --database-url postgresql://postgres@127.0.0.1:5432/bench_faults --duration 60

The database is dropped and made again (its name must contain "bench"), with the demo organisation
and generated usagers; two gunicorn servers serve it. Writer threads (personal API tokens) create
dossiers (usager + demande d'admission), validate AGGIRs (evaluation + its results) and edit dossiers
with their version (a counter in `adresse`); meanwhile a worker of either server is killed with
SIGKILL every --kill-every seconds (gunicorn starts another), and halfway `flask sillage backup` runs.

Then, in the database:
- no half-saved record: every dossier made by the writers has its demande d'admission, every validated
  AGGIR its GIR result; every such row has its audit entry and every entry its row;
- each edited dossier's counter moved with its version, by the accepted writes at least and at most
  those plus the ones whose answer was lost (the worker died after the commit, or before it);
- one audit entry per committed change of an edited dossier; `flask sillage audit verify` with both
  servers' anchor files passes;
- the backup restores into a fresh database (`<name>_restore`), which passes the same checks and,
  after `audit reanchor --confirm`, `audit verify`.
Exit status 0 when all hold.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.multi_server import PASSWORD, ROOT, TOTP_SECRET, environment, flask, prepare, start_servers

from .workload import AGGIR, counter_value, counters, fresh_postgresql, next_adresse


class Outcomes:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = collections.Counter()  # (kind, "accepted" | "refused" | "unknown")
        self.accepted_puts = collections.Counter()  # usager id → accepted
        self.unknown_puts = collections.Counter()  # usager id → answer lost

    def note(self, kind, outcome, usager=None):
        with self.lock:
            self.counts[(kind, outcome)] += 1
            if kind == "put" and outcome == "accepted":
                self.accepted_puts[usager] += 1
            elif kind == "put" and outcome == "unknown":
                self.unknown_puts[usager] += 1


def writer(n, account, servers, usagers, writable, etab_id, outcomes, stop):
    rng = random.Random(n)
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {account['token']}"
    made = 0
    while not stop.is_set():
        base, kind, usager = rng.choice(servers), "read", None
        try:
            if account["role"] == "Soin":
                kind = "aggir"
                response = http.post(f"{base}/api/v1/usager/{rng.choice(usagers)}/evaluations", timeout=60,
                                     json={"form": "aggir", "answers": AGGIR, "status": "validated"})
                ok = response.status_code == 201
            elif rng.random() < 0.3:
                kind, made = "create", made + 1
                letters = "".join(rng.choice("BFGJKLMNPV") + "R" for _ in range(5))
                response = http.post(f"{base}/api/v1/usager/", timeout=60, json={
                    "nom_naissance": f"PANNE{letters}", "prenoms_naissance": ["Essai"], "date_naissance": "1940-02-03",
                    "sexe": "F", "etablissement_id": etab_id, "accept_duplicates": True})
                ok = response.status_code == 201
            else:
                kind = "put"
                usager = rng.choice(writable)
                read = http.get(f"{base}/api/v1/usager/{usager}", timeout=60)
                if read.status_code != 200:
                    outcomes.note("read", "refused" if read.status_code < 500 else "unknown")
                    continue
                result = read.json()["result"]
                response = http.put(f"{base}/api/v1/usager/{usager}", timeout=60, json={
                    "version": result["version"], "adresse": next_adresse(result.get("adresse"))})
                ok = response.status_code == 200
                if response.status_code == 409:
                    outcomes.note(kind, "conflict", usager)
                    continue
                outcomes.note(kind, "accepted" if ok else ("unknown" if response.status_code >= 500 else "refused"),
                              usager)
                continue
            # a 502/500 from a dying worker: the change may or may not have been committed
            outcomes.note(kind, "accepted" if ok else ("unknown" if response.status_code >= 500 else "refused"))
        except requests.RequestException:
            outcomes.note(kind, "unknown", usager)  # the connection cut by the kill


def killer(servers, every, stop, kills):
    rng = random.Random(99)
    while not stop.wait(every):
        server = rng.choice(servers)
        pids = server.worker_pids()
        if pids:
            try:
                os.kill(rng.choice(pids), signal.SIGKILL)
                kills.append(server.name)
            except ProcessLookupError:
                pass


def checks(engine, writable=None, before=None, outcomes=None) -> list[str]:
    """Problems found in the database (empty: consistent)."""
    problems = []

    def count(sql):
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()

    bench = "SELECT id FROM ab_user WHERE username LIKE 'bench.%'"
    orphans = count(f"SELECT count(*) FROM usager u WHERE u.created_by_id IN ({bench}) AND NOT EXISTS "
                    "(SELECT 1 FROM demande_admission d WHERE d.usager_id = u.id)")
    if orphans:
        problems.append(f"{orphans} dossiers without their demande d'admission")
    no_gir = count(f"SELECT count(*) FROM evaluation e WHERE e.created_by_id IN ({bench}) AND e.status = 'validated' "
                   "AND NOT EXISTS (SELECT 1 FROM evaluation_result r WHERE r.evaluation_id = e.id AND r.key = 'gir')")
    if no_gir:
        problems.append(f"{no_gir} validated AGGIRs without their GIR")
    for entity, table in (("Usager", "usager"), ("Evaluation", "evaluation"), ("DemandeAdmission", "demande_admission"),
                          ("EvaluationResult", "evaluation_result")):
        creator = f"t.created_by_id IN ({bench})" if table in ("usager", "evaluation") else (
            f"t.usager_id IN (SELECT id FROM usager WHERE created_by_id IN ({bench}))" if table == "demande_admission"
            else f"t.evaluation_id IN (SELECT id FROM evaluation WHERE created_by_id IN ({bench}))")
        unaudited = count(f"SELECT count(*) FROM {table} t WHERE {creator} AND NOT EXISTS (SELECT 1 FROM audit_event a "
                          f"WHERE a.entity = '{entity}' AND a.entity_id = t.id AND a.action = 'create')")
        ghosts = count(f"SELECT count(*) FROM audit_event a WHERE a.entity = '{entity}' AND a.action = 'create' "
                       f"AND a.user_id IN ({bench}) AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = a.entity_id)")
        if unaudited or ghosts:
            problems.append(f"{entity}: {unaudited} rows without their audit entry, {ghosts} entries without their row")
    if writable:
        with engine.connect() as conn:
            rows = conn.execute(text(f"SELECT id, version, adresse FROM usager WHERE id IN ({','.join(map(str, writable))})"))
            now = {r.id: (r.version, counter_value(r.adresse)) for r in rows}
            audited = dict(conn.execute(text(
                "SELECT entity_id, count(*) FROM audit_event WHERE entity = 'Usager' AND action = 'update' "
                f"AND user_id IN ({bench}) AND entity_id IN ({','.join(map(str, writable))}) GROUP BY entity_id")).all())
        for usager in writable:
            (v0, c0), (v1, c1) = before[usager], now[usager]
            moved, accepted, unknown = v1 - v0, outcomes.accepted_puts[usager], outcomes.unknown_puts[usager]
            if c1 - c0 != moved or not accepted <= moved <= accepted + unknown:
                problems.append(f"usager {usager}: version +{moved}, counter +{c1 - c0}, {accepted} accepted, "
                                f"{unknown} unanswered")
            if audited.get(usager, 0) != moved:
                problems.append(f"usager {usager}: {moved} changes, {audited.get(usager, 0)} audit entries")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="PostgreSQL database to (re)create ('bench' in its name)")
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--kill-every", type=float, default=1.5, help="seconds between two kill -9")
    parser.add_argument("--usagers", type=int, default=300)
    args = parser.parse_args()
    url = args.database_url
    fresh_postgresql(url)
    restore_url = make_url(url).set(database=make_url(url).database + "_restore").render_as_string(hide_password=False)
    fresh_postgresql(restore_url)
    workdir = tempfile.mkdtemp(prefix="sillage-faults-")
    print(f"preparing {url}…", flush=True)
    prepare(url, workdir, generate=args.usagers)
    setup = environment(url, workdir, "setup")
    plan = json.loads(subprocess.run([sys.executable, "-m", "bench.load_accounts", str(args.writers), PASSWORD,
                                      TOTP_SECRET], cwd=ROOT, env=setup, capture_output=True, text=True,
                                     check=True).stdout)
    engine = create_engine(url)
    with engine.connect() as conn:
        etab_id = conn.execute(text("SELECT id FROM etablissement WHERE name = 'EHPAD Les Tilleuls'")).scalar()
    writable = random.Random(2).sample(plan["usagers"], 10)
    before = counters(engine, writable)
    servers = start_servers(url, workdir, ("a", "b"), workers=args.workers)
    outcomes, stop, kills = Outcomes(), threading.Event(), []
    threads = [threading.Thread(target=writer, args=(n, account, [s.url for s in servers], plan["usagers"], writable,
                                                     etab_id, outcomes, stop))
               for n, account in enumerate(plan["accounts"])]
    threads.append(threading.Thread(target=killer, args=(servers, args.kill_every, stop, kills)))
    archive = os.path.join(workdir, "sous-charge.tar.gz")
    try:
        for thread in threads:
            thread.start()
        time.sleep(args.duration / 2)
        backup = flask(setup, "sillage", "backup", archive, check=False)
        print(f"backup under load: {(backup.stdout or backup.stderr).strip()}", flush=True)
        time.sleep(args.duration / 2)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        for server in servers:
            server.stop()
    print(f"{len(kills)} workers killed with SIGKILL in {args.duration} s "
          f"({collections.Counter(kills)}); answers: {dict(sorted(outcomes.counts.items()))}")
    failed = False
    problems = checks(engine, writable, before, outcomes)
    print("database after the kills: " + ("consistent (no half-saved record, every change audited once, "
                                          "no lost update)" if not problems else "; ".join(problems)))
    failed |= bool(problems)
    anchors = [a for s in servers for a in ("--anchor", s.anchor)] + ["--anchor", setup["SILLAGE_AUDIT_ANCHOR"]]
    verdict = flask(setup, "sillage", "audit", "verify", *anchors, check=False)
    print(f"audit verify: {(verdict.stdout or verdict.stderr).strip()}")
    failed |= verdict.returncode != 0 or backup.returncode != 0
    engine.dispose()
    if backup.returncode == 0:
        target = environment(restore_url, os.path.join(workdir, "restore"), "restore")
        os.makedirs(os.path.join(workdir, "restore"))
        steps = [("restore", archive), ("audit", "reanchor", "--confirm"), ("audit", "verify")]
        for step in steps:
            result = flask(target, "sillage", *step, check=False)
            print(f"restored instance, {' '.join(step[:2])}: {(result.stdout or result.stderr).strip()[:400]}")
            failed |= result.returncode != 0
            if result.returncode:
                break
        restored = create_engine(restore_url)
        problems = checks(restored)
        with restored.connect() as conn:
            counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                      for t in ("usager", "demande_admission", "evaluation", "evaluation_result", "audit_event")}
        restored.dispose()
        print(f"restored database: {counts}; " + ("consistent" if not problems else "; ".join(problems)))
        failed |= bool(problems)
    shutil.rmtree(workdir, ignore_errors=True)
    print("FAULTS: FAILED" if failed else "FAULTS: all checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
