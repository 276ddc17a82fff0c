"""Birth places: INSEE codes of communes (current, merged or former) and of foreign countries
(99xxx), from the Code officiel géographique shipped in data/lieux_naissance.csv (its README says
from where and of when). Read once, on first use (40,000 rows, a few MB in memory).

RNIV: the birth place is a strict trait; its code must be one INSEE gives, so that the identity
matches the INS (téléservice INSi compares the code, not the name).
"""
from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l

from .text import fold

DATA = Path(__file__).resolve().parent / "data" / "lieux_naissance.csv"
KINDS = {"C": _l("commune"), "D": _l("commune déléguée"), "A": _l("commune associée"),
         "M": _l("arrondissement municipal"), "X": _l("ancienne commune"), "P": _l("pays")}


@dataclass(frozen=True)
class Place:
    code: str
    label: str
    kind: str

    @property
    def departement(self) -> str:
        if self.kind == "P":
            return ""
        return self.code[:3] if self.code.startswith("97") else self.code[:2]

    def as_dict(self) -> dict:
        return {"code": self.code, "libelle": self.label, "type": self.kind, "type_libelle": str(KINDS[self.kind]),
                "departement": self.departement}


@functools.cache
def _places() -> tuple[tuple[Place, ...], dict[str, tuple[Place, ...]]]:
    with DATA.open(encoding="utf-8", newline="") as handle:
        places = tuple(Place(r["code"], r["libelle"], r["type"]) for r in csv.DictReader(handle, delimiter=";"))
    by_code: dict[str, list[Place]] = {}
    for place in places:
        by_code.setdefault(place.code, []).append(place)
    return places, {code: tuple(found) for code, found in by_code.items()}


@functools.cache
def _folded() -> tuple[tuple[str, Place], ...]:
    return tuple((fold(p.label), p) for p in _places()[0])


def by_code(code: str | None) -> tuple[Place, ...]:
    """Every name of a code (empty when INSEE does not know it)."""
    return _places()[1].get((code or "").strip().upper(), ())


def exists(code: str | None) -> bool:
    return bool(by_code(code))


def label(code: str | None) -> str | None:
    """The name a code is known by today (a commune's, before its déléguée's of the same code)."""
    found = sorted(by_code(code), key=lambda p: _ORDER[p.kind])
    return found[0].label if found else None


_ORDER = {"C": 0, "M": 1, "P": 2, "D": 3, "A": 4, "X": 5}


def search(query: str | None, limit: int = 20) -> list[Place]:
    """Places whose code starts with the query, or whose name (accents, case, hyphens ignored)
    starts with it, or has a word starting with it; current communes and countries first."""
    query = (query or "").strip()
    if not query:
        return []
    if query[:1].isdigit() or query[:2].upper() in ("2A", "2B"):
        code = query.upper()
        found = [p for p in _places()[0] if p.code.startswith(code)]
        return sorted(found, key=lambda p: (p.code, _ORDER[p.kind]))[:limit]
    wanted = fold(query)
    if not wanted:
        return []
    starts, inside = [], []
    for folded, place in _folded():
        if folded.startswith(wanted):
            starts.append(place)
        elif f" {wanted}" in f" {folded}":
            inside.append(place)
    rank = lambda p: (fold(p.label) != wanted, _ORDER[p.kind], len(p.label), p.label, p.code)  # noqa: E731
    return (sorted(starts, key=rank) + sorted(inside, key=rank))[:limit]
