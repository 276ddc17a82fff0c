"""Password rule (CNIL délibération 2022-100, OWASP ASVS 5): length, not composition.

At least SILLAGE_PASSWORD_MIN_LENGTH characters (12 by default; passphrases welcome), not a
common password (zxcvbn's 30,000 plus a shipped French list), not guessable by zxcvbn's
estimator (score 3 or more), and not built on the user's own name. No forced periodic change.
"""
from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MAX_LENGTH = 256  # a KDF over megabytes is a denial of service
FRENCH_LIST = Path(__file__).resolve().parent.parent / "security" / "data" / "common-passwords-fr.txt"
RULE = _l("Au moins %(n)s caractères. Une phrase de passe de plusieurs mots est idéale ; majuscules, "
          "chiffres et symboles ne sont pas obligatoires. Les mots de passe courants, prévisibles ou "
          "contenant votre identifiant sont refusés.")


@functools.lru_cache(maxsize=1)
def common_passwords() -> frozenset:
    lines = FRENCH_LIST.read_text(encoding="utf-8").splitlines()
    french = {line.strip().lower() for line in lines if line.strip() and not line.startswith("#")}
    return frozenset(FREQUENCY_LISTS["passwords"]) | french


@functools.lru_cache(maxsize=1)
def dictionary_words() -> frozenset:
    """Every word of zxcvbn's lists (English, names, surnames, TV…) and the French list."""
    return frozenset(w for words in FREQUENCY_LISTS.values() for w in words) | common_passwords()


LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})


def _core(folded: str) -> str:
    """The word a password decorates: digits and symbols around it removed, leet undone
    ("M0tdepasse2024!" → "motdepasse")."""
    stripped = folded.strip(" 0123456789!?.,;:_-*#+=/&%$@()[]{}'\"")
    return stripped.translate(LEET).replace(" ", "").replace("-", "").replace("_", "")


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def password_problems(password: str, min_length: int = 12, user_inputs: tuple = ()) -> list[str]:
    """What is wrong with `password`, as French sentences (empty: accepted)."""
    if len(password) < min_length:
        return [_("Le mot de passe doit compter au moins %(n)s caractères.", n=min_length)]
    if len(password) > MAX_LENGTH:
        return [_("Le mot de passe ne doit pas dépasser %(n)s caractères.", n=MAX_LENGTH)]
    folded = _fold(password)
    if folded in common_passwords() or folded.strip() in common_passwords():
        return [_("Ce mot de passe fait partie des plus courants : choisissez-en un autre.")]
    if _core(folded) in common_passwords() or _core(folded) in dictionary_words():
        return [_("Un mot courant entouré de chiffres ou de symboles (« Motdepasse123! ») se devine : "
                  "choisissez plusieurs mots peu courants.")]
    inputs = [_fold(i) for i in user_inputs if i and len(i) >= 3]
    if any(i in folded for i in inputs):
        return [_("Le mot de passe ne doit pas contenir votre identifiant ou votre nom.")]
    if zxcvbn(password[:100], user_inputs=inputs)["score"] < 3:
        return [_("Ce mot de passe est trop facile à deviner (suite, répétition, date, mot courant…). "
                  "Ajoutez des mots peu courants.")]
    return []
