"""Several app servers over one PostgreSQL database, for the tests, the load bench and the fault
bench: a fresh database beside TEST_DATABASE_URL's (or any URL), migrated and loaded with the
demo organisation, and gunicorn servers started on it with the production configuration.

Every server gets the same SECRET_KEY (sessions, CSRF tokens, JWTs and the audit key) and its own
audit anchor file, as two machines would.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from .browser import free_port

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "mot-de-passe-multi-2026"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
SECRET_KEY = "multi-server-shared-secret-key-0123456789"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def environment(database_url: str, workdir: str, name: str, **extra) -> dict:
    return {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY,
            "SILLAGE_DATA_DIR": os.path.join(workdir, "data"),  # shared, as an NFS mount would be
            "SILLAGE_AUDIT_ANCHOR": os.path.join(workdir, f"{name}-audit-anchor.log"),
            "SILLAGE_INSTANCE_DIR": workdir, **{k: str(v) for k, v in extra.items()}}


def flask(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flask", "--app", "run.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=check)


def prepare(database_url: str, workdir: str, generate: int = 0) -> None:
    """Migrations, roles, the demo organisation (every account enrolled with TOTP_SECRET)."""
    env = environment(database_url, workdir, "setup")
    flask(env, "db", "upgrade")
    flask(env, "sillage", "init")
    flask(env, "sillage", "demo", "--password", PASSWORD, "--totp-secret", TOTP_SECRET)
    if generate:
        flask(env, "sillage", "generate", "--usagers", str(generate), "--seed", "7")


class Server:
    """One gunicorn (its master and `workers` workers) on a free port."""

    def __init__(self, database_url: str, workdir: str, name: str, workers: int = 1, **extra):
        self.name, self.port = name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = environment(database_url, workdir, name, **extra)
        self.anchor = self.env["SILLAGE_AUDIT_ANCHOR"]
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
        self.log = open(os.path.join(workdir, f"{name}.log"), "wb")
        self.process = subprocess.Popen(
            [gunicorn, "--workers", str(workers), "--bind", f"127.0.0.1:{self.port}", "--timeout", "60", "run:app"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                requests.get(self.url + "/login/", timeout=30)
                return
            except (requests.ConnectionError, requests.Timeout):
                if self.process.poll() is not None:
                    break
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn {name} did not start: see {self.log.name}")

    def worker_pids(self) -> list[int]:
        """The workers' process ids (children of the gunicorn master)."""
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.process.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def start_servers(database_url: str, workdir: str, names, workers: int = 1, **extra) -> list[Server]:
    """Servers `names` on the database; none left running if one fails to start."""
    servers = []
    try:
        for name in names:
            servers.append(Server(database_url, workdir, name, workers=workers, **extra))
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers


def csrf_token(session: requests.Session, base: str, path: str = "/login/") -> str:
    return CSRF.search(session.get(base + path).text).group(1)
