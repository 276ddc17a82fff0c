"""French phonetic key of names: « Soundex2 » (F. Brouard, « Algorithmes phonétiques », 2003),
the Soundex adapted to French spelling, so that DUPOND, Dupont and DUPOND' meet.

No library kept up to date on PyPI does French (jellyfish, pyphonetics and phonetics do English
Soundex/Metaphone; abydos, which has French algorithms, is unmaintained since 2020 and brings
numpy): the algorithm is eleven rewriting steps, written here as published.

Steps (numbered as in the publication):
 1-2. capitals, accents and everything but letters removed;
 3.   GUI→KI, GUE→KE, GA→KA, GO→KO, GU→K, CA→KA, CO→KO, CU→KU, Q→K, CC→K, CK→K;
 4.   every vowel but Y and the first letter becomes A;
 5.   prefixes MAC→MCC, ASA→AZA, KN→NN, PF→FF, SCH→SSS, PH→FF;
 6.   H removed unless after C or S;
 7.   Y removed unless after A;
 8.   a final A, D, T or S removed;
 9.   every A removed but a first one;
 10.  repeated letters kept once;
 11.  four letters kept (padded with spaces).

The duplicate search keeps the whole key (``length=None``): the four-letter cut was made for
card indexes, and at 30,000 dossiers it would make namesakes of most long names.
"""
from __future__ import annotations

import re

from unidecode import unidecode

_PRIMARY = (("GUI", "KI"), ("GUE", "KE"), ("GA", "KA"), ("GO", "KO"), ("GU", "K"), ("CA", "KA"),
            ("CO", "KO"), ("CU", "KU"), ("Q", "K"), ("CC", "K"), ("CK", "K"))
_PREFIXES = (("MAC", "MCC"), ("ASA", "AZA"), ("KN", "NN"), ("PF", "FF"), ("SCH", "SSS"), ("PH", "FF"))
_NOT_LETTER = re.compile(r"[^A-Z]+")


def soundex2(value: str | None, length: int | None = 4) -> str:
    """The Soundex2 key of a name; ``length=None`` keeps it whole. '' for a name with no letter."""
    word = _NOT_LETTER.sub("", unidecode(value or "").upper())
    if not word:
        return ""
    for group, replacement in _PRIMARY:
        word = word.replace(group, replacement)
    word = word[0] + re.sub(r"[EIOU]", "A", word[1:])
    for prefix, replacement in _PREFIXES:
        if word.startswith(prefix):
            word = replacement + word[len(prefix):]
            break
    word = re.sub(r"(?<![CS])H", "", word)
    word = re.sub(r"(?<!A)Y", "", word)
    if len(word) > 1:
        word = re.sub(r"[ADTS]$", "", word)
    word = word[:1] + word[1:].replace("A", "") if word else word
    word = re.sub(r"(.)\1+", r"\1", word)
    if length is None or not word:
        return word
    return word[:length].ljust(length)


def name_key(value: str | None) -> str:
    """The whole Soundex2 key of a name as typed (compound names and particles run together)."""
    return soundex2(value, length=None)


def phonetic_key(nom: str | None, premier_prenom: str | None) -> str:
    """Stored in ``usager.phon_key``: the birth name's and the first birth first name's keys."""
    return f"{name_key(nom)}|{name_key(premier_prenom)}"
