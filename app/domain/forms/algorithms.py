"""Named, tested algorithms a definition may call for results too complex for an expression.

The only place where Python meets a form definition: `algorithm: aggir` in a computed field.
Each algorithm declares its inputs (field codes), its outputs and a version frozen with results.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .. import aggir


@dataclass(frozen=True)
class Algorithm:
    name: str
    version: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    run: Callable[[dict, dict], tuple[dict, dict]]  # (answers, settings) → (computed, errors)


def _aggir(answers: dict, settings: dict):
    strict = settings.get("alimentation_variant", "strict") != "souple"
    return aggir.evaluate(answers, alimentation_strict=strict)


_AGGIR_INPUTS = aggir.LEAVES + tuple(f"{code}_stch" for code in aggir.LEAVES)

# CASF annexe 2-5, chap. 1: "se déplacer (dans le logement, à l'extérieur)" is ONE activity of the
# PCH criterion, though the GEVA rates its two settings apart: it counts once, at its worse level.
PCH_SAME_ACTIVITY = (("deplacer_logement", "deplacer_exterieur"),)
_LEVELS = "ABCD"


def _pch(answers: dict, settings: dict):
    matrix = answers.get("capacites")
    if not isinstance(matrix, dict) or not matrix:
        return {}, {}  # nothing rated yet: no criterion either way
    levels = {row: str(level) for row, level in matrix.items() if str(level) in _LEVELS}
    for rows in PCH_SAME_ACTIVITY:
        rated = [levels.pop(row) for row in rows if row in levels]
        if rated:
            levels[rows[0]] = max(rated, key=_LEVELS.index)
    graves = sum(1 for level in levels.values() if level == "C")
    absolues = sum(1 for level in levels.values() if level == "D")
    return {"difficultes_graves": graves, "difficultes_absolues": absolues,
            "eligibilite_pch": absolues >= 1 or graves >= 2}, {}


REGISTRY = {
    "aggir": Algorithm("aggir", aggir.ALGORITHM_VERSION, _AGGIR_INPUTS,
                       aggir.DISCRIMINANT + aggir.ILLUSTRATIVE + ("gir",), _aggir),
    "pch": Algorithm("pch", "casf-annexe-2-5", ("capacites",),
                     ("difficultes_graves", "difficultes_absolues", "eligibilite_pch"), _pch),
}
