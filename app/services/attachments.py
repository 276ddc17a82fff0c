"""Files answered to `file` fields of a form, kept in the usager's own folder.

The folder is the one the RGPD export ships and the anonymisation deletes, so an attachment is
exported and erased with the dossier. An answer holds the file's path within that folder
("formulaires/<random>-<name>"). A file is written before the evaluation is committed and
deleted again if the commit fails, so no record points to a missing file and no file is left
without its record.
"""
from __future__ import annotations

import re
import secrets
import unicodedata
from pathlib import Path

from flask_babel import gettext as _

from .errors import ValidationFailed
from .rgpd import documents_dir

SUBDIR = "formulaires"
ALLOWED = {".pdf", ".jpg", ".jpeg", ".png", ".odt", ".ods", ".doc", ".docx", ".xls", ".xlsx", ".txt"}
REFERENCE = re.compile(r"^formulaires/[A-Za-z0-9_-]{16}-[A-Za-z0-9._-]{1,120}$")


def safe_name(filename: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", filename or "").encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(ascii_name).name).strip("._") or "fichier"
    return cleaned[-120:]


def store(data_dir: str, usager_id: int, code: str, upload) -> tuple[str, Path]:
    """Write an uploaded file; (answer reference, path). Refuses unknown kinds and empty files."""
    name = safe_name(upload.filename)
    if Path(name).suffix.lower() not in ALLOWED:
        raise ValidationFailed({code: _("Type de fichier refusé ; acceptés : %(t)s", t=", ".join(sorted(ALLOWED)))})
    reference = f"{SUBDIR}/{secrets.token_urlsafe(12)}-{name}"
    path = documents_dir(data_dir, usager_id) / reference
    path.parent.mkdir(parents=True, exist_ok=True)
    upload.save(str(path))
    if path.stat().st_size == 0:
        path.unlink()
        raise ValidationFailed({code: _("Le fichier envoyé est vide.")})
    return reference, path


def path_of(data_dir: str, usager_id: int, reference) -> Path | None:
    """The file of a reference of this usager, or None (malformed, elsewhere, or missing)."""
    if not isinstance(reference, str) or not REFERENCE.match(reference):
        return None
    path = documents_dir(data_dir, usager_id) / reference
    return path if path.is_file() else None


def display_name(reference: str) -> str:
    """The name the file was sent with (after the folder and the random prefix)."""
    return reference[len(SUBDIR) + 1 + 17:] if REFERENCE.match(reference or "") else reference


def references(data: dict, answers: dict) -> set[str]:
    """The file references an evaluation's answers hold."""
    from ..domain.forms.definition import all_fields

    return {answers[f["code"]] for f, _parts in all_fields(data)
            if f["type"] == "file" and isinstance(answers.get(f["code"]), str)}
