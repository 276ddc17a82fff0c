"""SERAFIN-PH nomenclatures (besoins, prestations directes and indirectes), shipped as data.

National reference, never edited locally: read once from the CSV files in `data/` (copied from
../shared/reference, where their provenance is documented). Answers store the CNSA detailed
code; the ANS code (SMT "terminologie-SERAFINPH", used by FHIR/TDDUI exchanges) comes from the
published mapping, and is None for the two CNSA grouping levels ANS does not have.
"""
from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

from .text import fold

DATA = Path(__file__).resolve().parent / "data"
# A definition's `nomenclature:` → the kinds it offers.
KINDS = {
    "serafin_besoins": ("besoin",),
    "serafin_prestations": ("prestation_directe", "prestation_indirecte"),
}


@dataclass(frozen=True)
class Code:
    code: str  # CNSA detailed numbering
    label: str
    parent: str | None
    kind: str
    ans_code: str | None
    leaf: bool
    published_label: str = ""

    @property
    def level(self) -> int:
        return self.code.count(".") + 1

    def as_dict(self) -> dict:
        return {"code": self.code, "ans_code": self.ans_code, "label": self.label, "parent": self.parent,
                "kind": self.kind, "level": self.level, "leaf": self.leaf}


# What users read where the published labels carry typos: the data keep the published text
# (`published_label`, for exchanges and the consistency check), pages, pickers and PDFs show this.
READABLE_LABELS = {
    "3.1.1.2": "Gestion des ressources humaines, de la gestion prévisionnelle des emplois et des compétences "
               "et du dialogue social",
}


def _rows(name: str) -> list[dict]:
    with open(DATA / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@functools.lru_cache(maxsize=1)
def serafin() -> dict[str, Code]:
    """Every code, in the published order, by CNSA code."""
    renumbered = {r["cnsa_code"]: r["ans_smt_code"] or None for r in _rows("serafin_ph_cnsa_to_ans.csv")}
    rows = _rows("serafin_ph.csv")
    parents = {r["parent_code"] for r in rows if r["parent_code"]}
    return {r["code"]: Code(r["code"], READABLE_LABELS.get(r["code"], r["label"]), r["parent_code"] or None, r["kind"],
                            renumbered.get(r["code"], r["code"]), r["code"] not in parents, r["label"])
            for r in rows}


def ans_codes() -> dict[str, str]:
    """ANS SMT code → label, as published (for the consistency check and exchanges)."""
    return {r["code"]: r["label"] for r in _rows("serafin_ph_ans_smt.csv")}


def choices(nomenclature: str) -> list[Code]:
    """The codes a field of that nomenclature offers: the leaves of its kinds."""
    kinds = KINDS[nomenclature]
    return [c for c in serafin().values() if c.leaf and c.kind in kinds]


def search(q: str = "", nomenclature: str | None = None, leaves_only: bool = False) -> list[Code]:
    """Codes whose code or label holds every word of `q` (accents and case ignored)."""
    words = fold(q).split()
    kinds = KINDS.get(nomenclature) if nomenclature else None
    found = []
    for c in serafin().values():
        if (kinds and c.kind not in kinds) or (leaves_only and not c.leaf):
            continue
        haystack = fold(f"{c.code} {c.ans_code or ''} {c.label}")
        if all(w in haystack for w in words):
            found.append(c)
    return found
