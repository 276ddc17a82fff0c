"""Accent- and case-insensitive keys for search and duplicate detection."""
import re

from unidecode import unidecode

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def fold(value: str | None) -> str:
    """« Élodie-Marie D'Aubigné » → « elodie marie d aubigne »."""
    return _NON_ALNUM.sub(" ", unidecode(value or "").lower()).strip()


def duplicate_key(nom_naissance: str, premier_prenom: str, date_naissance) -> str:
    """Same birth name, same first birth first name, same birth date (accents and case ignored)."""
    return f"{fold(nom_naissance)}|{fold(premier_prenom)}|{date_naissance.isoformat()}"


def search_text(*parts: str | None) -> str:
    return " ".join(fold(p) for p in parts if p)


def split_prenoms(value) -> list[str]:
    """Birth first names in order. RNIV: separated by spaces; compound names keep their hyphen."""
    if isinstance(value, (list, tuple)):
        items = value
    else:
        items = (value or "").split()
    return [str(p).strip() for p in items if str(p).strip()]
