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

from flask import current_app
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
    """Write an uploaded file; (answer reference, path). Every upload of Sillage comes here:
    refuses unknown kinds, empty files, content that is not what its name says, and documents
    carrying macros (unless SILLAGE_ALLOW_MACRO_DOCUMENTS); nothing is left behind a refusal."""
    name = safe_name(upload.filename)
    if Path(name).suffix.lower() not in ALLOWED:
        raise ValidationFailed({code: _("Type de fichier refusé ; acceptés : %(t)s", t=", ".join(sorted(ALLOWED)))})
    reference = f"{SUBDIR}/{secrets.token_urlsafe(12)}-{name}"
    path = documents_dir(data_dir, usager_id) / reference
    path.parent.mkdir(parents=True, exist_ok=True)  # (0700, files 0600: the process umask, see app/__init__.py)
    upload.save(str(path))
    try:
        if path.stat().st_size == 0:
            raise ValidationFailed({code: _("Le fichier envoyé est vide.")})
        problem = content_problem(path, Path(name).suffix.lower(),
                                  current_app.config.get("SILLAGE_ALLOW_MACRO_DOCUMENTS", False))
        if problem:
            raise ValidationFailed({code: problem})
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return reference, path


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc, .xls (Office 97-2003)
KINDS = {".pdf": {"pdf"}, ".jpg": {"jpg"}, ".jpeg": {"jpg"}, ".png": {"png"},
         ".docx": {"docx", "zip"}, ".xlsx": {"xlsx", "zip"}, ".odt": {"odt", "zip"}, ".ods": {"ods", "zip"}}
OOXML_PARTS = {".docx": "word/", ".xlsx": "xl/"}
ODF_TYPES = {".odt": "application/vnd.oasis.opendocument.text",
             ".ods": "application/vnd.oasis.opendocument.spreadsheet"}


def content_problem(path: Path, suffix: str, allow_macros: bool) -> str | None:
    """Why this file's bytes are not a harmless `suffix` file (None: fine), by magic bytes
    (filetype) and, for office documents, by what their container holds."""
    import filetype

    head = path.read_bytes()[:8192]
    wrong = _("Le contenu du fichier ne correspond pas à son type (%(t)s).", t=suffix.lstrip("."))
    if suffix == ".txt":
        return wrong if b"\x00" in head or filetype.guess(head) is not None else None
    if suffix in (".doc", ".xls"):
        if not head.startswith(OLE):
            return wrong
        return None if allow_macros or not _ole_has_macros(path) else _macros_refused()
    kind = filetype.guess(head)
    if kind is None or kind.extension not in KINDS[suffix]:
        return wrong
    if suffix in OOXML_PARTS or suffix in ODF_TYPES:
        return _container_problem(path, suffix, allow_macros)
    return None


def _macros_refused() -> str:
    return _("Les documents contenant des macros sont refusés ; enregistrez-le sans macros (PDF, .docx, .xlsx).")


def _ole_has_macros(path: Path) -> bool:
    data = path.read_bytes()
    return "_VBA_PROJECT".encode("utf-16-le") in data or "Macros".encode("utf-16-le") in data


def _container_problem(path: Path, suffix: str, allow_macros: bool) -> str | None:
    import zipfile

    wrong = _("Le contenu du fichier ne correspond pas à son type (%(t)s).", t=suffix.lstrip("."))
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if suffix in ODF_TYPES:
                declared = archive.read("mimetype").decode("ascii", "replace").strip() if "mimetype" in names else ""
                if declared != ODF_TYPES[suffix]:
                    return wrong
                macros = any(n.startswith(("Basic/", "Scripts/")) for n in names)
            else:
                if not any(n.startswith(OOXML_PARTS[suffix]) for n in names):
                    return wrong
                types = archive.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
                macros = any(n.lower().endswith("vbaproject.bin") for n in names) or b"macroEnabled" in types
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError):
        return wrong
    return _macros_refused() if macros and not allow_macros else None


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


def references_in(answers: dict) -> set[str]:
    """Every file reference among an evaluation's answers, whatever its definition."""
    return {v for v in answers.values() if isinstance(v, str) and REFERENCE.match(v)}
