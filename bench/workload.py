"""What bench/load.py and bench/faults.py share: their database, their counter, their AGGIR."""
from __future__ import annotations

import re
import sys

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

# The versioned writes put "Banc d'essai n° k+1" in `adresse` after reading k: if the version
# check let two writers through, the counter would move less than the version.
COUNTER = re.compile(r"^Banc d'essai n° (\d+)$")
# An AGGIR that validates: every discriminant and illustrative variable at A, toilette at C.
AGGIR_A = ["coherence_communication", "coherence_comportement", "orientation_temps", "orientation_espace",
           "habillage_haut", "habillage_moyen", "habillage_bas", "alimentation_se_servir", "alimentation_manger",
           "elimination_urinaire", "elimination_fecale", "transferts", "deplacements_interieurs",
           "deplacements_exterieurs", "communication_a_distance"]
AGGIR = {**{code: "A" for code in AGGIR_A}, "toilette_haut": "C", "toilette_bas": "C"}


def counter_value(adresse: str | None) -> int:
    found = COUNTER.match(adresse or "")
    return int(found.group(1)) if found else 0


def next_adresse(adresse: str | None) -> str:
    return f"Banc d'essai n° {counter_value(adresse) + 1}"


def fresh_postgresql(url: str) -> None:
    """Drop and create the database of `url`; only a database named for a bench."""
    parsed = make_url(url)
    if "bench" not in (parsed.database or ""):
        sys.exit(f"{parsed.database}: the bench drops and recreates its database; use a name with 'bench'")
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def counters(engine, ids) -> dict[int, tuple[int, int]]:
    """usager id → (version, counter)."""
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT id, version, adresse FROM usager WHERE id IN ({','.join(map(str, ids))})"))
        return {r.id: (r.version, counter_value(r.adresse)) for r in rows}
