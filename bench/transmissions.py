"""Cahier de liaison figures: a service holding 100,000 transmissions (a year, one to three children
each); the first page of the service's feed, a child's feed, the unread count and list, for an
educator of the établissement (scope rules per row) and for the direction (organisation-wide).

    python -m bench.transmissions [--database-url URL] [--count 100000]
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import tempfile
import time

from bench.forms import timed


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="sillage-bench-transmissions-")
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{tmp}/bench.db"
    from flask_login import login_user
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from app import create_app
    from app.extensions import db
    from app.models import Admission, Etablissement, Transmission, TransmissionRead, TransmissionUsager, User
    from app.security.scope import current_scope, reset_scope
    from app.services import transmissions

    rng = random.Random(18)
    app = create_app()
    with app.app_context():
        upgrade()
        runner = app.test_cli_runner()
        runner.invoke(args=["sillage", "init"])
        runner.invoke(args=["sillage", "demo", "--password", "bench-password-2026"])
        etab = db.session.query(Etablissement).filter_by(name="IME Les Sources").one()
        service = next(s for s in etab.services if s.name == "Unité enfants")
        children = [u for (u,) in db.session.query(Admission.usager_id).filter(
            Admission.service_id == service.id, Admission.date_sortie.is_(None))]
        users = {u.username: u.id for u in db.session.query(User)}
        authors = [users["educ.sources"], users["direction"]]
        start = time.perf_counter()
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        next_id = (db.session.query(func.max(Transmission.id)).scalar() or 0) + 1
        categories = ["social_educatif"] * 6 + ["soins"] * 2 + ["administratif", "medical"]
        for batch in range(0, args.count, 10_000):
            rows, lines, reads = [], [], []
            for i in range(batch, min(batch + 10_000, args.count)):
                written = now - dt.timedelta(seconds=rng.randint(0, 365 * 86400))
                category = rng.choice(categories)
                rows.append({"id": next_id, "author_id": rng.choice(authors), "written_at": written,
                             "etablissement_id": etab.id, "service_id": service.id, "sensitivity": category,
                             "importante": rng.random() < 0.05, "mode": "narratif",
                             "texte": f"Transmission {i} : journée calme, repas pris en entier.",
                             "version": 1, "created_at": written, "updated_at": written})
                for child in rng.sample(children, rng.choice((1, 1, 1, 2, 3))):
                    lines.append({"transmission_id": next_id, "usager_id": child, "sensitivity": category,
                                  "written_at": written})
                if rng.random() < 0.5:  # half of them already acknowledged by the reader below
                    reads.append({"transmission_id": next_id, "user_id": users["direction"], "read_at": now})
                next_id += 1
            db.session.execute(Transmission.__table__.insert(), rows)
            db.session.execute(TransmissionUsager.__table__.insert(), lines)
            if reads:
                db.session.execute(TransmissionRead.__table__.insert(), reads)
            db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        print(f"inserted {args.count} transmissions in {service} ({len(children)} children) "
              f"in {time.perf_counter() - start:.1f} s ({db.engine.dialect.name})")
        app.config["SILLAGE_AUDIT_READS"] = False  # the figures are the queries', not the trail's
        for username in ("educ.sources", "direction"):
            with app.test_request_context():
                user = db.session.get(User, users[username])
                login_user(user)
                reset_scope()
                scope = current_scope()
                services = transmissions.user_service_ids(db.session, scope, user.id)
                ms = timed(lambda: transmissions.feed(db.session, service_ids=services), 7)
                rows, _more = transmissions.feed(db.session, service_ids=services)
                print(f"{username:13} feed of my services, first page ({len(rows)})  {ms:8.1f} ms")
                ms = timed(lambda: transmissions.feed(db.session, usager_id=children[0]), 7)
                print(f"{username:13} a child's feed, first page            {ms:8.1f} ms")
                filters = transmissions.Filters(start=now - dt.timedelta(days=7), categorie="soins")
                ms = timed(lambda: transmissions.feed(db.session, service_ids=services, filters=filters), 7)
                print(f"{username:13} feed, last 7 days, category soins     {ms:8.1f} ms")
                ms = timed(lambda: transmissions.unread_count(db.session, scope, user.id), 7)
                count = transmissions.unread_count(db.session, scope, user.id)
                print(f"{username:13} unread count ({count:6d})                {ms:8.1f} ms")
                ms = timed(lambda: transmissions.unread(db.session, scope, user.id, limit=100), 7)
                print(f"{username:13} unread list (100 first)               {ms:8.1f} ms")
                db.session.rollback()
        total = db.session.execute(select(func.count(Transmission.id))).scalar()
        print(f"{total} transmissions in the database")


if __name__ == "__main__":
    main()
