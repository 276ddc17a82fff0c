"""Form definitions available to fill and compute.

For now the shipped definitions of forms/ (one published version each); definitions made in the
application, their drafts and versions, come with the database catalogue.
"""
from __future__ import annotations

import functools
from pathlib import Path

from ..domain.forms import definition as definitions
from ..domain.forms.engine import evaluate

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"


@functools.lru_cache(maxsize=1)
def shipped() -> dict[str, dict]:
    """code → definition, every file of forms/ checked at load (a broken file is a startup error)."""
    found = {}
    for path in sorted(FORMS_DIR.glob("*.yaml")):
        data = definitions.load(path.read_text(encoding="utf-8"))
        found[data["code"]] = data
    return found


def published() -> list[dict]:
    return list(shipped().values())


def get(code: str, version: int | None = None) -> dict | None:
    data = shipped().get(code)
    if data is None or (version is not None and version != data["version"]):
        return None
    return data


def compute(code: str, answers: dict, version: int | None = None):
    """(result, None) or (None, field error) — nothing is stored."""
    data = get(code, version)
    if data is None:
        return None
    return evaluate(data, answers)
