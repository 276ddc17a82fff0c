"""Real HTTP server (gunicorn) and Debian's Chromium driven by Playwright, for end-to-end tests."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """gunicorn serving run:app on the test database, with the production configuration."""

    def __init__(self, database_url: str, data_dir: str, secret_key: str = "test-secret-key",
                 audit_anchor: str | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": secret_key,  # the same key: one audit chain
               "SILLAGE_DATA_DIR": data_dir,
               "SILLAGE_AUDIT_ANCHOR": audit_anchor or os.path.join(data_dir, "audit-anchor.log")}
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
        self.process = subprocess.Popen(
            [gunicorn, "--workers", "2", "--bind", f"127.0.0.1:{self.port}", "run:app"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start: " + self.process.stdout.read().decode()[-2000:])

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def browser_or_skip():
    """Chromium from Debian; in CI its absence is a failure, elsewhere a skip with the reason."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} absent (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    # The SQLite and PostgreSQL runs go side by side, each with its browser and live servers, on
    # two cores: an upload, its checks and the page after it can take longer than Playwright's
    # 5 s by default. What is awaited is unchanged; only how long before calling it missing.
    expect.set_options(timeout=15_000)
    return sync_playwright
