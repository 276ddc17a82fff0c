"""Audit at scale (issue 20): verification and audit pages on a database holding the benchmark
organisation (`flask sillage generate --profile benchmark`, 3 million audit entries).

    DATABASE_URL=URL SILLAGE_INSTANCE_DIR=DIR python -m bench.scale [--new 10000] [--requests 10] [--jobs N]

Timed in process (create_app not counted; the CLI's own start is measured with `time flask …`):
- `audit verify --complet`: the whole chain, then a checkpoint recorded;
- `--new` entries appended (as the writers append them), then `audit verify` from the checkpoint;
- the DPO's audit page (no filter, by usager, by account, by action, by dates, a far page) and
  "Qui a consulté ce dossier", signed in as `dpo` and `direction`: medians in ms;
- EXPLAIN of the access-history query (PostgreSQL: EXPLAIN ANALYZE; SQLite: EXPLAIN QUERY PLAN).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import time

from .search import signed_in, timed


def _verify(app, complete, jobs=1):
    from app.extensions import db
    from app.security.audit_chain import record_verification, verify

    with app.app_context():
        start = time.perf_counter()
        with db.engine.connect() as conn:
            verdict = verify(conn, complete=complete, jobs=jobs)
        with db.engine.begin() as conn:
            record_verification(conn, verdict)
        return verdict, time.perf_counter() - start


def _append(app, count):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import User, Usager
    from app.services.generate_benchmark import AUDIT_BATCH, _audit_row
    from app.security import audit_chain
    from app.models.base import utcnow

    rng = random.Random(5)
    with app.app_context():
        usernames = dict(db.session.execute(select(User.id, User.username)).tuples().all())
        usagers = [{"id": i} for i in db.session.execute(select(Usager.id).limit(5000)).scalars()]
        done = 0
        while done < count:
            size = min(AUDIT_BATCH, count - done)
            rows = [_audit_row(rng, utcnow(), usernames, sorted(usernames), usagers) for _ in range(size)]
            audit_chain.append(db.session.connection(), rows)
            db.session.commit()
            done += size


def _explain(app, usager_id):
    from sqlalchemy import select, text

    from app.extensions import db
    from app.models import AuditEvent
    from app.services.audit_log import NEWEST_FIRST, about

    with app.app_context():
        stmt = select(AuditEvent.id).where(about(usager_id)).order_by(*NEWEST_FIRST).limit(200)
        dialect = db.engine.dialect
        sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        prefix = "EXPLAIN QUERY PLAN " if dialect.name == "sqlite" else "EXPLAIN ANALYZE "
        lines = [" | ".join(str(c) for c in row) for row in db.session.execute(text(prefix + sql))]
        for q in ("SELECT id FROM audit_event ORDER BY at DESC, id DESC LIMIT 50",
                  "SELECT id FROM audit_event WHERE username = 'dpo' ORDER BY at DESC, id DESC LIMIT 50",
                  "SELECT id FROM audit_event WHERE action = 'login' ORDER BY at DESC, id DESC LIMIT 50"):
            lines.append("-- " + q)
            lines += [" | ".join(str(c) for c in row) for row in db.session.execute(text(prefix + q))]
        return lines


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--new", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--skip-complete", action="store_true")
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), help="processes of `verify --complet` (default: one per CPU)")
    args = parser.parse_args()
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.models import AuditEvent, Usager

    app = create_app()
    app.config["SILLAGE_AUDIT_READS"] = False  # the pages' own reads would grow the trail as it is measured
    with app.app_context():
        total = db.session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        usager_id = db.session.execute(select(Usager.id).order_by(Usager.id.desc()).limit(1)).scalar_one()
        print(f"{db.engine.dialect.name}: {total} audit entries")
    if not args.skip_complete:
        verdict, seconds = _verify(app, complete=True, jobs=args.jobs)
        print(f"verify --complet --jobs {args.jobs}: ok={verdict.ok} {verdict.checked} entries in {seconds:.1f} s"
              f" ({verdict.checked / seconds:,.0f}/s)")
    _append(app, args.new)
    verdict, seconds = _verify(app, complete=False)
    print(f"verify (from checkpoint {verdict.from_id}): ok={verdict.ok} {verdict.checked} entries in {seconds:.2f} s")
    pages = {"audit, no filter": "/audit/", "audit, usager": f"/audit/?usager={usager_id}",
             "audit, account": "/audit/?user=direction", "audit, action login": "/audit/?action=login",
             "audit, one month": "/audit/?from=2026-01-01&to=2026-01-31", "audit, page 200": "/audit/?page=200",
             "qui a consulté ce dossier": f"/dossier/{usager_id}/acces"}
    for username in ("dpo", "direction"):
        client = signed_in(app, username)
        for name, url in pages.items():
            if username == "direction" and name.startswith("audit"):
                continue  # (the audit pages are the DPO's)
            first = client.get(url)
            assert first.status_code == 200, (url, first.status_code)
            times = [timed(lambda: client.get(url)) for _ in range(args.requests)]
            print(f"{username:10} {name:28} median {statistics.median(times):7.1f} ms  min {min(times):7.1f} ms")
    for line in _explain(app, usager_id):
        print("  " + line)


if __name__ == "__main__":
    main()
