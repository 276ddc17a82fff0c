"""Backup and restore of a whole instance: database and documents, while the application runs.

A backup is one `.tar.gz` holding `manifest.json` (schema revision, counts, audit chain head),
the database (SQLite's online backup API, or `pg_dump --format=custom`, both consistent
snapshots without stopping the service) and `data/` (documents). Restore refuses a target that
already holds data: it brings a backup back on an empty instance, it never merges.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url

FORMAT = 1
COUNTED = ("usager", "admission", "evaluation", "audit_event", "ab_user", "form_definition")


class BackupError(Exception):
    """A French message for the operator."""


def _pg_env(url) -> tuple[list[str], dict]:
    args = ["--host", url.host or "127.0.0.1", "--port", str(url.port or 5432), "--username", url.username or "postgres"]
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = url.password
    return args, env


def _run(cmd: list[str], env: dict) -> None:
    try:
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    except FileNotFoundError:
        raise BackupError(f"{cmd[0]} introuvable : installez le client PostgreSQL de la même version que le serveur.")
    if result.returncode != 0:
        raise BackupError(f"{cmd[0]} a échoué : {result.stderr.strip()[:500]}")


def _counts(conn) -> dict:
    names = set(inspect(conn).get_table_names())
    return {t: conn.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar() for t in COUNTED if t in names}


def _facts(conn) -> dict:
    """What the manifest says of a database: schema revision, counts, audit chain head. Read in
    the snapshot that is saved (not the live database, which moves on under load)."""
    from ..models import AuditHead

    names = set(inspect(conn).get_table_names())
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() \
        if "alembic_version" in names else None
    head = conn.execute(select(AuditHead.last_id, AuditHead.last_hash)).first() if "audit_head" in names else None
    return {"revision": revision, "counts": _counts(conn), "audit_head": list(head) if head else None}


def backup(database_url: str, data_dir: str, dest: str) -> dict:
    """Write the archive `dest`; returns its manifest."""
    dest_path = Path(dest)
    if dest_path.exists():
        raise BackupError(f"{dest} existe déjà : choisissez un nouveau nom de fichier.")
    url = make_url(database_url)
    engine = create_engine(url)
    work = Path(tempfile.mkdtemp(prefix="sillage-backup-"))
    try:
        if url.get_backend_name() == "sqlite":
            target = sqlite3.connect(work / "database.sqlite")
            source = sqlite3.connect(url.database)
            with target:
                source.backup(target)  # online, consistent even while workers write
            source.close()
            target.close()
            db_file = "database.sqlite"
            copy = create_engine(f"sqlite:///{work / db_file}")
            with copy.connect() as conn:
                facts = _facts(conn)
            copy.dispose()
        elif url.get_backend_name() == "postgresql":
            args, env = _pg_env(url)
            # pg_dump takes the snapshot this transaction exports, whose counts and audit head the
            # manifest records: under load, a second look at the live database would not match
            # the dump, and its restore would be refused as incomplete.
            with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
                snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar()
                facts = _facts(conn)
                _run(["pg_dump", *args, "--format=custom", "--no-owner", "--snapshot", snapshot,
                      "--file", str(work / "database.dump"), url.database], env)
            db_file = "database.dump"
        else:
            raise BackupError(f"base non prise en charge : {url.get_backend_name()}")
        manifest = {"format": FORMAT, "created_at": dt.datetime.now(dt.timezone.utc).isoformat(),
                    "database": url.get_backend_name(), "database_file": db_file, **facts,
                    "documents": sum(len(files) for _, _, files in os.walk(data_dir)) if os.path.isdir(data_dir) else 0}
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        partial = dest_path.with_name(dest_path.name + ".partiel")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(work / "manifest.json", "manifest.json")
            tar.add(work / db_file, db_file)
            if os.path.isdir(data_dir):
                tar.add(data_dir, "data")
        os.chmod(partial, 0o600)  # health data: readable by the service account only
        partial.rename(dest_path)  # never a half-written backup under the final name
        return manifest
    finally:
        engine.dispose()
        shutil.rmtree(work, ignore_errors=True)


def _safe_members(tar: tarfile.TarFile):
    for member in tar.getmembers():
        if member.name.startswith("/") or ".." in Path(member.name).parts or member.issym() or member.islnk():
            raise BackupError(f"archive refusée : chemin suspect {member.name}")
        yield member


def restore(database_url: str, data_dir: str, src: str) -> dict:
    """Bring the archive `src` back on an empty instance; returns its manifest."""
    if not os.path.isfile(src):
        raise BackupError(f"{src} introuvable.")
    url = make_url(database_url)
    work = Path(tempfile.mkdtemp(prefix="sillage-restore-"))
    engine = create_engine(url)
    try:
        try:
            with tarfile.open(src, "r:gz") as tar:
                tar.extractall(work, members=list(_safe_members(tar)))
            manifest = json.loads((work / "manifest.json").read_text(encoding="utf-8"))
        except (tarfile.TarError, OSError, ValueError, KeyError) as error:
            raise BackupError(f"archive illisible : {error}")
        if manifest.get("format") != FORMAT:
            raise BackupError("format de sauvegarde inconnu.")
        if manifest["database"] != url.get_backend_name():
            raise BackupError(f"sauvegarde {manifest['database']} : elle se restaure sur une base du même type "
                              f"(ici {url.get_backend_name()}).")
        existing = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
        if existing:
            raise BackupError("la base cible n'est pas vide : la restauration se fait sur une instance neuve.")
        if os.path.isdir(data_dir) and any(os.scandir(data_dir)):
            raise BackupError(f"le dossier des documents {data_dir} n'est pas vide.")
        engine.dispose()
        if url.get_backend_name() == "sqlite":
            target = sqlite3.connect(url.database)
            source = sqlite3.connect(work / manifest["database_file"])
            with target:
                source.backup(target)
            source.close()
            target.close()
        else:
            args, env = _pg_env(url)
            _run(["pg_restore", *args, "--no-owner", "--exit-on-error", "--dbname", url.database,
                  str(work / manifest["database_file"])], env)
        if (work / "data").is_dir():
            Path(data_dir).mkdir(parents=True, exist_ok=True)
            shutil.copytree(work / "data", data_dir, dirs_exist_ok=True)
        with engine.connect() as conn:
            counts = _counts(conn)
        if counts != manifest["counts"]:
            raise BackupError(f"restauration incomplète : {counts} au lieu de {manifest['counts']}")
        return manifest
    finally:
        engine.dispose()
        shutil.rmtree(work, ignore_errors=True)
