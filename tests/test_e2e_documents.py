"""In Chromium (issue 18 §4): a secretary uploads a document into a dossier, previews it, replaces
it (the first version stays in the history), and a refused file says why in French."""
import os
import tempfile

from playwright.sync_api import expect

from .test_e2e_browser import live_server, login, page  # noqa: F401 (fixtures)

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def _file(name, content):
    path = os.path.join(tempfile.mkdtemp(prefix="sillage-e2e-doc-"), name)
    with open(path, "wb") as fh:
        fh.write(content)
    return path


def test_a_secretary_uploads_previews_and_replaces_a_document(page, live_server, app):  # noqa: F811
    from . import factories as f

    with app.app_context():
        usager_id = f.gen_usager(f.TILLEULS).id
    base = live_server.url
    login(page, base, "secretaire.tilleuls", app)
    page.goto(f"{base}/dossier/{usager_id}#documents")
    page.locator("details.document-upload > summary").click()
    page.select_option("#doc-type_code", "attestation_assurance")
    page.fill("#doc-titre", "Attestation d'assurance 2026")
    page.set_input_files("#doc-fichier", _file("assurance.pdf", PDF))
    page.locator("details.document-upload button[type=submit]").click()
    row = page.locator("tbody.document", has_text="Attestation d'assurance 2026")
    expect(row).to_be_visible()
    with page.expect_response(lambda r: r.url.endswith("/apercu")) as preview:
        row.locator("details.document-preview > summary").click()
    assert preview.value.status == 200 and preview.value.headers["content-type"] == "application/pdf"
    expect(row.locator("iframe")).to_be_visible()
    # The preview, full width under the document, never pushes the page sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # Back to the dossier: Chromium's PDF viewer, while it starts, takes the focus and the next
    # click with it (a real user reads the preview first; a test would click within milliseconds).
    page.goto(f"{base}/dossier/{usager_id}#documents")
    row.locator("details:has(summary:has-text('Remplacer')) > summary").click()
    row.locator("input[type=file]").set_input_files(_file("assurance-v2.pdf", PDF.replace(b"200 200", b"300 300")))
    row.locator("button:has-text('Enregistrer la nouvelle version')").click()
    expect(row).to_contain_text("assurance-v2.pdf")
    expect(row.locator("summary:has-text('Versions (2)')")).to_be_visible()
    page.locator("details.document-upload > summary").click()
    page.fill("#doc-titre", "Faux PDF")
    page.set_input_files("#doc-fichier", _file("piege.pdf", b"<html><script>alert(1)</script></html>"))
    page.locator("details.document-upload button[type=submit]").click()
    expect(page.locator(".alert")).to_contain_text("fichier")
    expect(page.locator("tbody.document", has_text="Faux PDF")).to_have_count(0)
