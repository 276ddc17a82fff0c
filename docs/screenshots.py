"""The README's screenshots, made again from a fresh demo: `make screenshots`.

A throw-away SQLite database gets the demo organisation, gunicorn serves it with the production
configuration, and Debian's Chromium (Playwright, no downloaded browser) signs in as each account
and captures its page at 1366 px wide into docs/captures/.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pyotp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM, CHROMIUM_ARGS, LiveServer  # noqa: E402

PASSWORD = "Captures-Sillage-2026!"
TOTP = "JBSWY3DPEHPK3PXPJBSWY3DP"
SHOTS = [  # (account, page, file): the dossier of the first demo resident, the direction's home
    ("secretaire.tilleuls", "/dossier/1", "dossier.png"),
    ("direction", "/", "accueil-direction.png"),
]


def demo_database(folder: str) -> str:
    url = f"sqlite:///{folder}/captures.db"
    env = {"DATABASE_URL": url, "FLASK_APP": "run.py", "SILLAGE_DATA_DIR": folder, "PATH": "/usr/bin:/bin"}
    flask = str(Path(sys.executable).parent / "flask")
    for args in (["db", "upgrade"], ["sillage", "init"],
                 ["sillage", "demo", "--password", PASSWORD, "--totp-secret", TOTP]):
        subprocess.run([flask, *args], cwd=ROOT, env=env, check=True, capture_output=True)
    return url


def main() -> None:
    from playwright.sync_api import sync_playwright

    out = ROOT / "docs" / "captures"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sillage-captures-") as folder:
        server = LiveServer(demo_database(folder), folder, secret_key="captures")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for username, path, name in SHOTS:
                    page = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900}).new_page()
                    page.goto(server.url + "/login/")
                    page.fill("#username", username)
                    page.fill("#password", PASSWORD)
                    page.click("button[type=submit]")
                    page.wait_for_url(server.url + "/login/code")
                    code = pyotp.TOTP(TOTP).now()
                    page.fill("#code", code)
                    page.click("button[type=submit]")
                    page.wait_for_url(server.url + "/")
                    page.goto(server.url + path)
                    page.screenshot(path=str(out / name), full_page=False)
                    print(out / name)
                    page.context.close()
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
