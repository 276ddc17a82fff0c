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


_AGGIR_INPUTS = tuple(
    [f"{v}_{s}" for v, subs in aggir.SUB_VARIABLES.items() for s in subs]
    + [v for v in aggir.DISCRIMINANT + aggir.ILLUSTRATIVE if v not in aggir.SUB_VARIABLES]
)

REGISTRY = {
    "aggir": Algorithm("aggir", aggir.ALGORITHM_VERSION, _AGGIR_INPUTS,
                       aggir.DISCRIMINANT + aggir.ILLUSTRATIVE + ("gir",), _aggir),
}
