"""An écrit as a PDF on the letterhead of its établissement (name, address, FINESS): its type,
title, the person it is about, its authors and its validation. Only what the maker may read is
printed: the écrit comes from the scoped session.

No logo yet: the établissement has no logo field (see the report of the écrits branch).
"""
from __future__ import annotations

from flask_babel import gettext as _

from .pdf import Document, french_date


def _name(user) -> str:
    return f"{user.first_name} {user.last_name}" if user is not None else ""


def letterhead(etablissement) -> list[str]:
    place = " ".join(p for p in (etablissement.code_postal, etablissement.commune) if p)
    return [etablissement.name, etablissement.adresse or "", place,
            _("FINESS %(n)s", n=etablissement.finess) if etablissement.finess else "",
            _("Tél. %(t)s", t=etablissement.telephone) if etablissement.telephone else ""]


def ecrit_pdf(ecrit, numero: int | None = None) -> bytes:
    """`numero`: the content version printed (the last saved by default)."""
    usager = ecrit.usager
    person = usager.display_name
    statut = {"brouillon": _("brouillon"), "soumis": _("soumis à validation"), "valide": _("validé"),
              "diffuse": _("diffusé")}.get(ecrit.statut, ecrit.statut)
    doc = Document(ecrit.type.label, letterhead=letterhead(ecrit.etablissement), logo=ecrit.etablissement.logo,
                   footer=_("%(t)s — %(p)s — version %(n)s", t=ecrit.type.label, p=person, n=numero or ""))
    doc.subtitle(ecrit.titre)
    authors = [_name(ecrit.auteur), *(_name(u) for u in ecrit.coauteurs)]
    doc.pairs([
        (_("Personne accompagnée"), f"{person}, {_('né(e) le %(d)s', d=french_date(usager.date_naissance))}"
         if usager.date_naissance else person),
        (_("Rédigé par"), ", ".join(a for a in authors if a)),
        (_("Rédigé le"), french_date(ecrit.created_at)),
        (_("Statut"), statut),
        (_("Validé par"), _name(ecrit.validated_by) if ecrit.validated_at else ""),
        (_("Validé le"), french_date(ecrit.validated_at) if ecrit.validated_at else ""),
    ])
    doc.pdf.ln(doc.size * 0.6)
    doc.html(ecrit.contenu or "")
    return doc.output()
