"""A filled evaluation as a PDF a person reads (a meeting, the paper file): the answers the user
may read, section by section, in words; the computed results set apart; a draft says so.
The caller loads the evaluation through the scope and the shared secret (what the user may not
read is already absent) and the read is audited like the page's."""
from __future__ import annotations

from flask_babel import gettext as _

from ..domain.forms.display import readable_answers, readable_results
from .pdf import Document, french_date

STATUS = {"draft": "BROUILLON", "validated": "validée"}


def evaluation_pdf(evaluation, usager, names: dict, withheld: set) -> tuple[bytes, str]:
    """(PDF bytes, file name). `names`: user id → display name (author, validator);
    `withheld`: field codes the user may not read (left out even if present)."""
    data = evaluation.definition.data
    answers = {k: v for k, v in (evaluation.answers or {}).items() if k not in withheld}
    computed = {k: v for k, v in (evaluation.computed or {}).items() if k not in withheld}
    doc = Document(data["title"], footer=_("Document confidentiel — données de santé — %(u)s",
                                           u=usager.display_name))
    places = ", ".join(sorted({a.etablissement.name for a in usager.admissions if a.is_active}))
    doc.subtitle(_("%(n)s, né(e) le %(d)s", n=usager.display_name, d=french_date(usager.date_naissance))
                 + (f" — {places}" if places else ""))
    if evaluation.status == "draft":
        doc.heading(_("BROUILLON — évaluation non validée"), level=2)
    doc.pairs([
        (_("Formulaire"), _("%(t)s, version %(v)s", t=data["title"], v=evaluation.form_version)),
        (_("Évaluation du"), french_date(evaluation.evaluated_on)),
        (_("Statut"), _("validée") if evaluation.status == "validated" else _("brouillon")),
        (_("Saisie par"), names.get(evaluation.created_by_id, "")),
        (_("Validée le"), french_date(evaluation.validated_at) if evaluation.validated_at else ""),
        (_("Validée par"), names.get(evaluation.validated_by_id, "")),
        (_("Corrige l'évaluation n°"), str(evaluation.corrects_id) if evaluation.corrects_id else ""),
    ])
    results = readable_results(data, computed)
    if results:
        doc.heading(_("Résultats"))
        for label, value in results:
            doc.paragraph(f"{label} : {value}", bold=True)
    for section in data["sections"]:
        shown = readable_answers({"sections": [section]}, answers)
        if not shown:
            continue
        doc.heading(section["title"])
        doc.pairs(shown)
    if not answers:
        doc.paragraph(_("Aucune réponse lisible avec vos droits."), italic=True)
    name = f"evaluation-{evaluation.id}-{evaluation.form_code}-v{evaluation.form_version}.pdf"
    return doc.output(), name
