"""The projet personnalisé as PDFs the person and the family read: the full version (the person's
words first, objectives and actions in plain language, codes only when asked, ready for
signature) and the easy-read (FALC) version: large type, short lines, one idea per line.

Only what the maker may read is printed: the objects come from the scoped session.
"""
from __future__ import annotations

from flask_babel import gettext as _

from ..domain import nomenclatures
from ..domain import projet as rules
from .pdf import Document, french_date


def _person(usager) -> str:
    first = usager.prenom_utilise or usager.premier_prenom_naissance
    last = usager.nom_utilise or usager.nom_naissance
    return f"{first} {last}"


def _user(user) -> str:
    return f"{user.first_name} {user.last_name}" if user else ""


def _code_label(code: str, with_codes: bool) -> str:
    found = nomenclatures.serafin().get(code)
    label = found.label if found else code
    return f"{label} ({code})" if with_codes else label


def projet_pdf(projet, users: dict, with_codes: bool = False, objectifs=None) -> bytes:
    """`users`: id → User, for the référents' names; `objectifs`: those to print (default: every
    objective the reader's session loaded)."""
    objectifs = projet.objectifs if objectifs is None else objectifs
    person = _person(projet.usager)
    doc = Document(_("Projet personnalisé de %(p)s", p=person),
                   footer=_("Projet personnalisé de %(p)s, version %(n)s", p=person, n=projet.numero))
    doc.subtitle(_("%(e)s - version %(n)s du %(d)s - %(s)s", e=projet.etablissement.name, n=projet.numero,
                   d=french_date(projet.date_debut), s=rules.STATUT.get(projet.statut, projet.statut)))
    doc.pairs([(_("Référent de projet"), _user(users.get(projet.referent_id))),
               (_("Prochaine révision"), french_date(projet.date_revision)),
               (_("Équipe"), ", ".join(_user(users.get(u)) for u in projet.equipe or [] if users.get(u)))])
    words = [a for a in projet.attentes if a.auteur == "personne"]
    others = [a for a in projet.attentes if a.auteur != "personne"]
    doc.heading(_("Ce que %(p)s souhaite", p=person))
    doc.bullets([f"« {a.texte} »" for a in words] or [_("Non exprimé à ce jour.")])
    if others:
        doc.heading(_("Ce que souhaitent l'entourage et l'équipe"))
        doc.bullets([f"« {a.texte} » ({a.auteur_nom or rules.AUTEUR_ATTENTE[a.auteur]})" for a in others])
    if projet.synthese or projet.besoins:
        doc.heading(_("Les besoins repérés"))
        if projet.synthese:
            doc.paragraph(projet.synthese)
        doc.bullets([_code_label(c, with_codes) for c in projet.besoins or []])
    doc.heading(_("Les objectifs et ce qui sera fait"))
    if not objectifs:
        doc.paragraph(_("Aucun objectif à ce jour."))
    group = object()
    for objectif in objectifs:
        if objectif.realisation and objectif.realisation != group:
            group = objectif.realisation
            doc.heading(_("Pour : « %(r)s »", r=objectif.realisation), level=2)
        doc.paragraph(objectif.libelle, bold=True)
        target = _target(objectif)
        doc.pairs([(_("Besoins"), ", ".join(_code_label(c, with_codes) for c in objectif.besoins or [])),
                   (_("Résultat visé"), target)])
        doc.bullets([_action_line(a, users, with_codes) for a in objectif.actions])
    if projet.bilans:
        doc.heading(_("Bilans"))
        titles = {o.id: o.libelle for o in objectifs}
        for bilan in projet.bilans:
            doc.paragraph(_("%(t)s du %(d)s", t=rules.TYPE_BILAN[bilan.type], d=french_date(bilan.date)), bold=True)
            doc.bullets([f"{titles.get(x.objectif_id, '')} : {rules.ATTEINTE[x.atteinte]}"
                         + (f" ({x.mesure:g})" if x.mesure is not None else "")
                         + (f" - {_('avis de la personne')} : « {x.avis_personne} »" if x.avis_personne else "")
                         for x in bilan.lignes if x.objectif_id in titles])
    if projet.participations:
        doc.heading(_("Participation"))
        doc.bullets([f"{rules.ETAPE[p.etape]} : {p.nom} ({p.qualite}) - {rules.PARTICIPATION[p.statut]}"
                     + (f" : {p.motif}" if p.motif else "") for p in projet.participations])
    doc.heading(_("Signatures"))
    if projet.signatures:
        doc.bullets([_("%(n)s (%(q)s), le %(d)s, %(m)s", n=s.nom, q=rules.QUALITE_SIGNATAIRE[s.qualite],
                       d=french_date(s.date), m=rules.MODE_SIGNATURE[s.mode]) for s in projet.signatures])
        doc.paragraph(_("Empreinte du contenu signé : %(h)s", h=projet.content_hash), italic=True)
    else:
        for label in (_("La personne"), _("Son représentant légal"), _("Le référent de projet"), _("La direction")):
            doc.signature_box(_("%(l)s - nom, date et signature :", l=label))
    return doc.output()


def _target(objectif) -> str:
    if objectif.indicateur_cible is None:
        return objectif.indicateur_unite or ""
    if objectif.indicateur_echelle:
        return _("%(c)s sur une échelle de 0 à 4", c=f"{objectif.indicateur_cible:g}")
    return f"{objectif.indicateur_cible:g} {objectif.indicateur_unite or ''}".strip()


def _action_line(action, users, with_codes) -> str:
    parts = [action.libelle]
    if with_codes:
        parts.append(_code_label(action.prestation, True))
    if action.frequence:
        parts.append(action.frequence)
    if action.debut or action.fin:
        parts.append(_("du %(a)s au %(b)s", a=french_date(action.debut) or "…", b=french_date(action.fin) or "…"))
    if users.get(action.referent_id):
        parts.append(_("avec %(u)s", u=_user(users[action.referent_id])))
    if action.partenaires:
        parts.append(action.partenaires)
    return " - ".join(parts)


def falc_pdf(projet, objectifs=None) -> bytes:
    """Easy-read: the easy-read wordings (else the wording), large type, one idea per line."""
    objectifs = projet.objectifs if objectifs is None else objectifs
    person = _person(projet.usager)
    doc = Document(_("Mon projet"), footer=_("Mon projet - %(p)s", p=person), size=18)
    doc.paragraph(person, bold=True)
    doc.paragraph(_("Mon projet commence le %(d)s.", d=french_date(projet.date_debut)))
    if projet.date_revision:
        doc.paragraph(_("Nous en reparlons avant le %(d)s.", d=french_date(projet.date_revision)))
    words = [a.texte for a in projet.attentes if a.auteur == "personne"]
    if words:
        doc.heading(_("Ce que je veux"))
        for text in words:
            doc.star()
            doc.paragraph(text)
    doc.heading(_("Mes objectifs"))
    for objectif in objectifs:
        doc.star()
        doc.paragraph(objectif.libelle_falc or objectif.libelle, bold=True)
        for action in objectif.actions:
            doc.paragraph(action.libelle)
    doc.heading(_("Ma signature"))
    doc.signature_box(_("Je suis d'accord avec mon projet :"))
    return doc.output()
