"""Near duplicates of an identity, and why each one looks like the same person.

Identity vigilance (RNIV: look for possible duplicates before creating an identity) looks beyond
exact equality: the mistakes that make duplicates are a name heard
rather than read (Dupond / DUPONT), first names typed in another order, and a birth date with one
typing slip (a digit off, two digits swapped, day and month inverted).

A candidate must be close on all three: the birth name (same, phonetically the same, or the
dossier's used name), the first names (same first one, phonetically the same, or the same names
in another order) and the birth date (same, or one slip away; two digits off only for a phonetic
namesake, whom the stored key finds whatever the date). Namesakes born on other days and twins
with other first names are different people and are not shown.

Pure functions: the service reads the rows (by phonetic key or birth date variants, both
indexed) and this module says which are candidates and why.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from .phonetic import name_key, phonetic_key
from .text import fold

REASONS = {
    "identique": _l("mêmes nom de naissance, premier prénom et date de naissance"),
    "nom_phonetique": _l("nom phonétiquement proche"),
    "nom_utilise": _l("nom saisi égal au nom utilisé du dossier"),
    "prenom_phonetique": _l("premier prénom phonétiquement proche"),
    "prenoms_ordre": _l("prénoms dans un autre ordre"),
    "jour_mois": _l("jour et mois inversés"),
    "un_chiffre": _l("un chiffre de différence dans la date de naissance"),
    "chiffres_inverses": _l("deux chiffres inversés dans la date de naissance"),
    "deux_chiffres": _l("deux chiffres de différence dans la date de naissance"),
}


@dataclass
class Identity:
    nom_naissance: str
    prenoms: list[str]
    date_naissance: dt.date
    nom_utilise: str | None = None
    phon_key: str | None = None

    def __post_init__(self):
        if self.phon_key is None:
            self.phon_key = phonetic_key(self.nom_naissance, self.prenoms[0] if self.prenoms else "")


@dataclass
class Candidate:
    usager: object  # the Usager row (or only its id, for a dossier the user may not see)
    codes: list[str] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        """Why it looks like the same person, in the user's language."""
        return [str(REASONS[c]) for c in self.codes]


def _digits(date: dt.date) -> str:
    return f"{date.day:02}{date.month:02}{date.year:04}"  # as typed: jj/mm/aaaa


def _from_digits(digits: str) -> dt.date | None:
    try:
        return dt.date(int(digits[4:]), int(digits[2:4]), int(digits[:2]))
    except ValueError:
        return None


def date_variants(date: dt.date) -> list[dt.date]:
    """The date and every valid date one typing slip away (about 70): what to look up."""
    digits = _digits(date)
    variants = {date}
    for i, typed in enumerate(digits):
        for other in "0123456789":
            if other != typed:
                variants.add(_from_digits(digits[:i] + other + digits[i + 1:]))
        if i + 1 < len(digits):
            variants.add(_from_digits(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:]))
    if date.day <= 12:
        variants.add(_swap_day_month(date))
    variants.discard(None)
    return sorted(variants)


def _swap_day_month(date: dt.date) -> dt.date | None:
    try:
        return date.replace(day=date.month, month=date.day)
    except ValueError:
        return None


def date_slip(typed: dt.date, known: dt.date) -> str | None:
    """'' when equal, the reason code of one typing slip, 'deux_chiffres', or None if further."""
    if typed == known:
        return ""
    if _swap_day_month(typed) == known:
        return "jour_mois"
    a, b = _digits(typed), _digits(known)
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    if len(diff) == 1:
        return "un_chiffre"
    if len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]:
        return "chiffres_inverses"
    if len(diff) == 2:
        return "deux_chiffres"
    return None


def _nom_slip(typed: Identity, known: Identity) -> str | None:
    if fold(typed.nom_naissance) == fold(known.nom_naissance):
        return ""
    if name_key(typed.nom_naissance) and name_key(typed.nom_naissance) == name_key(known.nom_naissance):
        return "nom_phonetique"
    if known.nom_utilise and (fold(typed.nom_naissance) == fold(known.nom_utilise)
                              or name_key(typed.nom_naissance) == name_key(known.nom_utilise)):
        return "nom_utilise"
    return None


def _prenoms_slip(typed: Identity, known: Identity) -> str | None:
    mine, theirs = [fold(p) for p in typed.prenoms], [fold(p) for p in known.prenoms]
    if not mine or not theirs:
        return None
    if mine[0] == theirs[0]:
        return ""
    if name_key(mine[0]) and name_key(mine[0]) == name_key(theirs[0]):
        return "prenom_phonetique"
    if set(mine) & set(theirs):
        return "prenoms_ordre"
    return None


def compare(typed: Identity, known: Identity) -> list[str] | None:
    """The reason codes why `known` may be the person `typed`, or None if it is someone else."""
    nom, prenoms, date = _nom_slip(typed, known), _prenoms_slip(typed, known), date_slip(
        typed.date_naissance, known.date_naissance)
    if nom is None or prenoms is None or date is None:
        return None
    if date == "deux_chiffres" and known.phon_key != typed.phon_key:
        return None
    codes = [c for c in (nom, prenoms, date) if c]
    return codes or ["identique"]


def rank(typed: Identity, rows) -> list[Candidate]:
    """Candidates among (usager, Identity) pairs, the closest first (fewest reasons to doubt)."""
    found = []
    for usager, known in rows:
        codes = compare(typed, known)
        if codes is not None:
            found.append((0 if codes == ["identique"] else len(codes), fold(known.nom_naissance), Candidate(usager, codes)))
    found.sort(key=lambda item: item[:2])
    return [item[2] for item in found]
