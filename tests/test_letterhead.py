"""The établissement's letterhead logo (issue 18 §2): uploaded in its page, checked like any
upload, printed on the comptes rendus."""
from __future__ import annotations

import io
import struct
import zlib

from app.extensions import db
from app.models import Etablissement

from . import factories as f


def _png(width=4, height=4) -> bytes:
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    chunk = lambda kind, data: (struct.pack(">I", len(data)) + kind + data  # noqa: E731
                                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _edit(client, etab, upload):
    data = {"organisme": etab.organisme_id, "name": etab.name, "categorie": etab.categorie_id,
            "finess": etab.finess or "", "adresse": etab.adresse or "", "code_postal": etab.code_postal or "",
            "commune": etab.commune or "", "telephone": etab.telephone or "", "logo_fichier": upload}
    return client.post(f"/etablissementview/edit/{etab.id}", data=data, content_type="multipart/form-data",
                       follow_redirects=True)


def test_a_logo_is_checked_then_printed_on_the_letterhead(app, as_user):
    from app.services.pdf import Document

    with app.app_context():
        etab = f.etablissement(f.SOURCES)
        db.session.expunge(etab)
    client = as_user("admin")
    refused = _edit(client, etab, (io.BytesIO(b"<svg onload=alert(1)></svg>"), "logo.png"))
    assert "Logo" in refused.data.decode()
    with app.app_context():
        assert db.session.get(Etablissement, etab.id).logo is None
    png = _png()
    saved_page = _edit(client, etab, (io.BytesIO(png), "logo.png")).data.decode()
    assert "Logo :" not in saved_page and "Database Error" not in saved_page
    with app.app_context():
        saved = db.session.get(Etablissement, etab.id)
        assert saved.logo == png and saved.logo_mime == "image/png"
        with_logo = Document("Compte rendu", letterhead=[saved.name], logo=saved.logo).output()
        without = Document("Compte rendu", letterhead=[saved.name]).output()
        assert b"/Subtype /Image" in with_logo and b"/Subtype /Image" not in without
        saved.logo = saved.logo_mime = None
        db.session.commit()
