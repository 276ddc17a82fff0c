"""Safe upload, in one place: every file Sillage receives comes through `receive` (the forms
engine's file fields through `store`, the document store through services.documents).

A file is refused unless: its name is a plain name (no folder, no "..", no NUL), its extension
is allowed, it is not empty and within SILLAGE_UPLOAD_MAX_BYTES, its bytes are what the
extension says (magic bytes, by the kept library `filetype`; the containers of office files
opened), it carries no active content (HTML or script markers, an archive glued behind an image
or a PDF, PDF actions, macros unless SILLAGE_ALLOW_MACRO_DOCUMENTS), the type the client
declared does not contradict it, and the antivirus (clamd, when SILLAGE_CLAMD_SOCKET is set)
finds nothing. Files live in the usager's own folder under SILLAGE_DATA_DIR (outside the web
root; the folder the RGPD export ships and the anonymisation deletes), named by the server,
mode 0600, with their SHA-256 computed while they are written (the document store checks it
again at every download). Nothing is left behind a refusal.

Forms engine: an answer holds the file's path within that folder ("formulaires/<random>-<name>").
A file is written before the evaluation is committed and deleted again if the commit fails.
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
import socket
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from .errors import ValidationFailed
from .rgpd import documents_dir

SUBDIR = "formulaires"
ALLOWED = {".pdf", ".jpg", ".jpeg", ".png", ".odt", ".ods", ".doc", ".docx", ".xls", ".xlsx", ".txt"}
REFERENCE = re.compile(r"^formulaires/[A-Za-z0-9_-]{16}-[A-Za-z0-9._-]{1,120}$")
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
CHUNK = 64 * 1024
# What a browser or a client may declare for each kind; a generic type says nothing and passes.
MIME = {
    ".pdf": {"application/pdf", "application/x-pdf"}, ".jpg": {"image/jpeg", "image/pjpeg", "image/jpg"},
    ".jpeg": {"image/jpeg", "image/pjpeg", "image/jpg"}, ".png": {"image/png", "image/x-png"},
    ".odt": {"application/vnd.oasis.opendocument.text"}, ".ods": {"application/vnd.oasis.opendocument.spreadsheet"},
    ".doc": {"application/msword"}, ".xls": {"application/vnd.ms-excel"},
    ".docx": {"application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    ".xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    ".txt": {"text/plain"},
}
MIME_OF = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
           ".txt": "text/plain", **{k: next(iter(v)) for k, v in MIME.items() if len(v) == 1 and k != ".txt"}}
GENERIC_MIME = {"", "application/octet-stream", "binary/octet-stream", "application/download",
                "application/x-download", "application/force-download"}
# Markers of content a browser would run if it ever rendered the file as a page.
ACTIVE_MARKERS = (b"<script", b"<html", b"<!doctype html", b"<svg", b"<iframe", b"<object", b"<embed",
                  b"<body", b"<?php", b"javascript:", b"<meta http-equiv")
PDF_ACTIONS = (b"/javascript", b"/js ", b"/js(", b"/js<", b"/launch", b"/embeddedfile", b"/richmedia", b"/xfa")
ZIP_END = b"PK\x05\x06"  # the end of a zip archive's directory: an archive hidden behind another kind


class FileTooLarge(ValidationFailed):
    """Beyond SILLAGE_UPLOAD_MAX_BYTES (the API answers 413)."""


@dataclass
class Received:
    reference: str  # path within the usager's folder
    path: Path
    name: str  # the name it was sent with, cleaned
    sha256: str
    size: int
    mime: str


def safe_name(filename: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", filename or "").encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(ascii_name).name).strip("._") or "fichier"
    return cleaned[-120:]


def max_bytes() -> int:
    return int(current_app.config.get("SILLAGE_UPLOAD_MAX_BYTES") or DEFAULT_MAX_BYTES)


def name_problem(filename: str | None) -> str | None:
    """A sent name is a file's name, not a path: browsers send the last part only, so a folder,
    ".." or a control character is an attempt (refused, not cleaned)."""
    if not filename or not filename.strip():
        return _("Le fichier n'a pas de nom.")
    if any(c in filename for c in "/\\\x00") or ".." in filename or any(ord(c) < 32 for c in filename):
        return _("Nom de fichier refusé : il ne doit contenir ni dossier, ni « .. », ni caractère de contrôle.")
    return None


def receive(data_dir: str, usager_id: int | None, code: str, upload, subdir: str, keep_name: bool = False,
            base: Path | None = None) -> Received:
    """Check and write an uploaded file into `subdir` of the usager's folder, or raise
    ValidationFailed({code: message}) (FileTooLarge beyond the limit) leaving nothing behind.
    The stored name is made by the server (`keep_name`: a random prefix and the cleaned sent
    name, as the forms engine's references are). `base`: a folder other than the usager's (the
    attachments of a message about nobody in particular)."""
    problem = name_problem(getattr(upload, "filename", None))
    if problem:
        raise ValidationFailed({code: problem})
    name = safe_name(upload.filename)
    suffix = Path(name).suffix.lower()
    if suffix not in ALLOWED:
        raise ValidationFailed({code: _("Type de fichier refusé ; acceptés : %(t)s", t=", ".join(sorted(ALLOWED)))})
    token = secrets.token_urlsafe(12)
    reference = f"{subdir}/{token}-{name}" if keep_name else f"{subdir}/{token}{suffix}"
    path = (base if base is not None else documents_dir(data_dir, usager_id)) / reference
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    limit = max_bytes()
    digest, size = hashlib.sha256(), 0
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            while chunk := upload.stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise FileTooLarge({code: _("Fichier trop volumineux : %(n)s Mo au plus.", n=limit // (1024 * 1024) or 1)})
                digest.update(chunk)
                out.write(chunk)
        os.chmod(path, 0o600)  # whatever the umask
        if size == 0:
            raise ValidationFailed({code: _("Le fichier envoyé est vide.")})
        problem = content_problem(path, suffix, current_app.config.get("SILLAGE_ALLOW_MACRO_DOCUMENTS", False))
        if problem is None:
            problem = declared_type_problem(getattr(upload, "mimetype", "") or "", suffix)
        if problem is None:
            problem = antivirus_problem(path)
        if problem:
            raise ValidationFailed({code: problem})
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Received(reference, path, name, digest.hexdigest(), size, MIME_OF[suffix])


def store(data_dir: str, usager_id: int, code: str, upload) -> tuple[str, Path]:
    """A file field's answer (the forms engine): (answer reference, path)."""
    received = receive(data_dir, usager_id, code, upload, SUBDIR, keep_name=True)
    return received.reference, received.path


def declared_type_problem(declared: str, suffix: str) -> str | None:
    """A client that says "text/html" for a ".pdf" lies about one or the other: refused."""
    declared = declared.split(";")[0].strip().lower()
    if declared in GENERIC_MIME or declared in MIME[suffix]:
        return None
    return _("Le type déclaré du fichier (%(d)s) ne correspond pas à son contenu (%(t)s).", d=declared,
             t=suffix.lstrip("."))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def active_content(path: Path, suffix: str) -> bool:
    """HTML or script markers anywhere in a file a browser could be led to render (images, PDFs,
    text), PDF actions that run code, or a zip archive glued behind an image or a PDF (a
    polyglot). Office containers are checked by `_container_problem`."""
    data = path.read_bytes()
    lowered = data.lower()
    if any(marker in lowered for marker in ACTIVE_MARKERS):
        return True
    if suffix == ".pdf" and any(action in lowered for action in PDF_ACTIONS):
        return True
    return ZIP_END in data[-65536 - 22:]


def antivirus_problem(path: Path) -> str | None:
    """Ask clamd (SILLAGE_CLAMD_SOCKET: a Unix socket path, or host:port) with its INSTREAM
    command; skipped when not configured. A file is refused when a signature matches, and when
    the antivirus cannot answer (configured means required)."""
    where = current_app.config.get("SILLAGE_CLAMD_SOCKET")
    if not where:
        return None
    try:
        answer = clamd_instream(where, path)
    except OSError:
        current_app.logger.exception("clamd unreachable at %s", where)
        return _("L'antivirus ne répond pas : le fichier ne peut pas être accepté pour le moment.")
    if answer.endswith("FOUND"):
        from ..security.audit import record_event

        signature = answer.split(":", 1)[-1].rsplit(" ", 1)[0].strip()
        record_event("virus_refuse", entity="Fichier", details={"signature": signature[:200]})
        return _("L'antivirus a détecté un contenu malveillant (%(s)s) : fichier refusé.", s=signature)
    if not answer.endswith("OK"):
        return _("L'antivirus n'a pas pu analyser le fichier : fichier refusé.")
    return None


def clamd_instream(where: str, path: Path, timeout: float = 30.0) -> str:
    """clamd's INSTREAM protocol: "zINSTREAM\\0", then chunks each preceded by its length (4 bytes,
    network order), a zero length to end; the answer ("stream: OK", "stream: <name> FOUND")
    ends with a NUL."""
    if where.startswith("/"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        address = where
    else:
        host, _sep, port = where.rpartition(":")
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        address = (host.strip("[]"), int(port))
    with sock:
        sock.settimeout(timeout)
        sock.connect(address)
        sock.sendall(b"zINSTREAM\0")
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                sock.sendall(struct.pack("!L", len(chunk)) + chunk)
        sock.sendall(struct.pack("!L", 0))
        reply = b""
        while not reply.endswith(b"\0"):
            part = sock.recv(4096)
            if not part:
                break
            reply += part
    return reply.rstrip(b"\0").decode("utf-8", "replace").strip()


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
    active = _("Fichier refusé : il contient du contenu actif (HTML, script, archive cachée ou action PDF).")
    if suffix == ".txt":
        if b"\x00" in head or filetype.guess(head) is not None:
            return wrong
        return active if active_content(path, suffix) else None
    if suffix in (".doc", ".xls"):
        if not head.startswith(OLE):
            return wrong
        return None if allow_macros or not _ole_has_macros(path) else _macros_refused()
    kind = filetype.guess(head)
    if kind is None or kind.extension not in KINDS[suffix]:
        return wrong
    if suffix in OOXML_PARTS or suffix in ODF_TYPES:
        return _container_problem(path, suffix, allow_macros)
    return active if active_content(path, suffix) else None


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
