"""AGGIR: from the answers of the national grid to a GIR.

Source of the tables, thresholds and rangs: CASF annexe 2-2 « Algorithme de la grille AGGIR »
(identical in décret n° 97-427, annexe II). Sub-variable combination rules: the guide of
annexe 2-1 (décret n° 2008-821) is published only as a fac-similé; the rules below are those of
production software (see ../shared/reference/aggir.md § 2.4) and the alimentation case AC/CA is a
setting, as the reference asks.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

ALGORITHM_VERSION = "casf-annexe-2-2/2"  # /2: letters from the STCH adverbs

DISCRIMINANT = ("coherence", "orientation", "toilette", "habillage", "alimentation", "elimination",
                "transferts", "deplacements_interieurs", "deplacements_exterieurs", "communication_a_distance")
ILLUSTRATIVE = ("gestion", "cuisine", "menage", "transports", "achats", "suivi_du_traitement",
                "activites_de_temps_libre")
SUB_VARIABLES = {
    "coherence": ("communication", "comportement"),
    "orientation": ("temps", "espace"),
    "toilette": ("haut", "bas"),
    "habillage": ("haut", "moyen", "bas"),
    "alimentation": ("se_servir", "manger"),
    "elimination": ("urinaire", "fecale"),
}
LETTERS = ("A", "B", "C")

# CASF annexe 2-2: per group, the value of each variable coded C, then coded B (A counts 0).
# Order: cohérence, orientation, toilette, habillage, alimentation, élimination, transferts,
# déplacements intérieurs, déplacements extérieurs, communication à distance.
GROUPS = {
    "A": ((2000, 1200, 40, 40, 60, 100, 800, 200, 0, 0), (0, 0, 16, 16, 20, 16, 120, 32, 0, 0)),
    "B": ((1500, 1200, 40, 40, 60, 100, 800, -80, 0, 0), (320, 120, 16, 16, 0, 16, 120, -40, 0, 0)),
    "C": ((0, 0, 40, 40, 60, 160, 1000, 400, 0, 0), (0, 0, 16, 16, 20, 20, 200, 40, 0, 0)),
    "D": ((0, 0, 0, 0, 2000, 400, 2000, 200, 0, 0), (0, 0, 0, 0, 200, 200, 200, 0, 0, 0)),
    "E": ((400, 400, 400, 400, 400, 800, 800, 200, 0, 0), (0, 0, 100, 100, 100, 100, 100, 0, 0, 0)),
    "F": ((200, 200, 500, 500, 500, 500, 500, 200, 0, 0), (100, 100, 100, 100, 100, 100, 100, 0, 0, 0)),
    "G": ((150, 150, 300, 300, 500, 500, 400, 200, 0, 0), (0, 0, 200, 200, 200, 200, 200, 100, 0, 0)),
    "H": ((0, 0, 3000, 3000, 3000, 3000, 1000, 1000, 0, 0), (0, 0, 2000, 2000, 2000, 2000, 2000, 1000, 0, 0)),
}
# (threshold, rang) pairs tested in order within each group; no match → next group.
THRESHOLDS = {
    "A": ((4380, 1), (4140, 2), (3390, 3)),
    "B": ((2016, 4),),
    "C": ((1700, 5), (1432, 6)),
    "D": ((2400, 7),),
    "E": ((1200, 8),),
    "F": ((800, 9),),
    "G": ((650, 10),),
    "H": ((4000, 11), (2000, 12), (float("-inf"), 13)),
}
RANG_TO_GIR = {1: 1, 2: 2, 3: 2, 4: 2, 5: 2, 6: 2, 7: 2, 8: 3, 9: 3, 10: 4, 11: 4, 12: 5, 13: 6}

# GIR points used for the GMP (GIR moyen pondéré).
GIR_POINTS = {1: 1000, 2: 840, 3: 660, 4: 420, 5: 250, 6: 70}


@dataclass(frozen=True)
class GirResult:
    gir: int
    rang: int
    group: str
    total: int


def group_sum(group: str, letters: dict) -> int:
    weights_c, weights_b = GROUPS[group]
    total = 0
    for index, variable in enumerate(DISCRIMINANT):
        letter = letters.get(variable, "A")
        if letter == "C":
            total += weights_c[index]
        elif letter == "B":
            total += weights_b[index]
    return total


def gir(letters: dict) -> GirResult:
    """The GIR of the 10 discriminant letters (missing variables count as A only if absent
    from the weighted eight; callers check completeness first)."""
    for group, thresholds in THRESHOLDS.items():
        total = group_sum(group, letters)
        for threshold, rang in thresholds:
            if total >= threshold:
                return GirResult(RANG_TO_GIR[rang], rang, group, total)
    raise AssertionError("group H always decides")  # pragma: no cover


def combine(variable: str, sub_letters: list[str], alimentation_strict: bool = True) -> str:
    """Letter of a variable from its sub-variables (../shared/reference/aggir.md § 2.4).

    Toilette, habillage: all A → A, all C → C, otherwise B.
    Cohérence, orientation, élimination, alimentation: all A → A, any C → C, otherwise B;
    with `alimentation_strict=False`, alimentation gives C only for CC, BC, CB (AC/CA → B).
    """
    if all(letter == "A" for letter in sub_letters):
        return "A"
    if variable in ("toilette", "habillage"):
        return "C" if all(letter == "C" for letter in sub_letters) else "B"
    if variable == "alimentation" and not alimentation_strict:
        return "C" if sub_letters.count("C") and "A" not in sub_letters else "B"
    return "C" if "C" in sub_letters else "B"


def letter_from_adverbs(spontanement: bool, totalement: bool, correctement: bool, habituellement: bool) -> str:
    """STCH rule (guide 2008): four yes → A, four no → C, otherwise B."""
    yes = sum(map(bool, (spontanement, totalement, correctement, habituellement)))
    return "A" if yes == 4 else "C" if yes == 0 else "B"


# Answered for each (sub-)variable in `<code>_stch` (a matrix: adverb → "oui"/"non"), in this order.
ADVERBS = ("spontanement", "totalement", "correctement", "habituellement")
LEAVES = tuple([f"{v}_{s}" for v, subs in SUB_VARIABLES.items() for s in subs]
               + [v for v in DISCRIMINANT + ILLUSTRATIVE if v not in SUB_VARIABLES])


def leaf_letter(answers: dict, code: str) -> tuple[str | None, str | None]:
    """(letter, conflict) of one (sub-)variable: from its four adverbs when all are answered, else
    the letter coded directly; both given and different is a conflict (its message), not a guess."""
    letter = answers.get(code) if answers.get(code) in LETTERS else None
    adverbs = answers.get(f"{code}_stch")
    if isinstance(adverbs, dict) and all(adverbs.get(a) in ("oui", "non") for a in ADVERBS):
        derived = letter_from_adverbs(*(adverbs[a] == "oui" for a in ADVERBS))
        if letter and letter != derived:
            return None, f"{code} : {letter} ≠ {derived}"
        return derived, None
    return letter, None


def evaluate(answers: dict, alimentation_strict: bool = True) -> tuple[dict, dict]:
    """From the answers of an AGGIR form (field codes of forms/aggir.yaml: letters and/or the four
    adverbs of each (sub-)variable) to each variable's letter and the GIR.
    → (computed, errors): what can be computed is, even if other answers are missing."""
    computed, errors, conflicts = {}, {}, []
    letters = {}
    for code in LEAVES:
        letters[code], conflict = leaf_letter(answers, code)
        if conflict:
            conflicts.append(conflict)
    for variable in DISCRIMINANT + ILLUSTRATIVE:
        subs = SUB_VARIABLES.get(variable)
        if subs:
            values = [letters[f"{variable}_{sub}"] for sub in subs]
            if all(v in LETTERS for v in values):
                computed[variable] = combine(variable, values, alimentation_strict)
            elif answers.get(variable) in LETTERS and not any(values):
                computed[variable] = answers[variable]  # coded directly, without sub-variables
        elif letters[variable]:
            computed[variable] = letters[variable]
    missing = [v for v in DISCRIMINANT if v not in computed]
    if conflicts:
        errors["gir"] = _("lettre cotée et adverbes discordants (%(c)s) : corrigez l'un ou l'autre",
                          c=", ".join(conflicts))
    elif missing:
        errors["gir"] = missing
    else:
        computed["gir"] = gir(computed).gir
    return computed, errors
