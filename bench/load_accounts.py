"""Accounts for bench/load.py and bench/faults.py, made in the database they will load.

    DATABASE_URL=… SECRET_KEY=… python -m bench.load_accounts N PASSWORD TOTP_SECRET

N staff accounts of EHPAD Les Tilleuls, half « Soin » (they save evaluations), half « Secrétariat »
(they edit dossiers through the API), each enrolled with TOTP_SECRET and holding a personal write
token; prints JSON: the accounts, the usagers of the EHPAD and their names (for searches).

`benchmark_secretary` gives the data of `generate --profile benchmark` (whose ten établissements no
demo account works in) its one-établissement secretary, as an administrator would make her: a
Secrétariat account assigned to « EHPAD Benchmark 1 » (bench/search.py and bench/pages.py with
--profile benchmark).
"""
from __future__ import annotations

import json
import sys

from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import Admission, Etablissement, StaffAssignment, Usager
from app.security.auth import create_token, enrol_with_secret

EHPAD = "EHPAD Les Tilleuls"
BENCHMARK_SECRETARY, BENCHMARK_EHPAD = "secretaire.benchmark", "EHPAD Benchmark 1"


def benchmark_secretary(app, password: str, secret: str | None = None) -> str:
    """The Secrétariat account of EHPAD Benchmark 1 (made once; enrolled with `secret`) → its name."""
    with app.app_context():
        sm = app.appbuilder.sm
        etab = db.session.execute(select(Etablissement).where(Etablissement.name == BENCHMARK_EHPAD)).scalar_one()
        user = sm.find_user(username=BENCHMARK_SECRETARY) or sm.add_user(
            BENCHMARK_SECRETARY, "Banc", "Secrétaire", f"{BENCHMARK_SECRETARY}@bench.invalid",
            [sm.find_role("Secrétariat")], password)
        if not db.session.execute(select(StaffAssignment).where(StaffAssignment.user_id == user.id)).first():
            db.session.add(StaffAssignment(user_id=user.id, etablissement_id=etab.id))
        if secret:
            enrol_with_secret(user, secret)
        db.session.commit()
        db.session.remove()
    return BENCHMARK_SECRETARY


def main(count: int, password: str, secret: str) -> dict:
    app = create_app()
    accounts = []
    with app.app_context():
        sm = app.appbuilder.sm
        etab = db.session.execute(select(Etablissement).where(Etablissement.name == EHPAD)).scalar_one()
        for n in range(count):
            role = "Soin" if n % 2 == 0 else "Secrétariat"
            username = f"bench.{'soin' if role == 'Soin' else 'secretariat'}.{n:02d}"
            user = sm.find_user(username=username) or sm.add_user(
                username, "Banc", f"Essai {n:02d}", f"{username}@bench.invalid", [sm.find_role(role)], password)
            if not db.session.execute(select(StaffAssignment).where(StaffAssignment.user_id == user.id)).first():
                db.session.add(StaffAssignment(user_id=user.id, etablissement_id=etab.id))
            enrol_with_secret(user, secret)
            db.session.commit()
            token = create_token(user, "write", 2, "bench")
            accounts.append({"username": username, "role": role, "token": token})
        rows = db.session.execute(
            select(Usager.id, Usager.nom_naissance).join(Admission, Admission.usager_id == Usager.id)
            .where(Admission.etablissement_id == etab.id, Admission.date_sortie.is_(None),
                   Usager.archived_at.is_(None)).order_by(Usager.id)).all()
    return {"accounts": accounts, "usagers": sorted({r.id for r in rows}),
            "names": sorted({r.nom_naissance for r in rows})}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), sys.argv[2], sys.argv[3])))
