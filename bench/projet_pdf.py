"""Rendering time of a projet personnalisé with 10 objectives and 30 actions, as a PDF and as its
easy-read version (median of 20, CPU of this process).

    python -m bench.projet_pdf
"""
from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import time


def build():
    """A PP version in memory (the renderer reads objects, not the database)."""
    from app.models import Etablissement, User, Usager
    from app.models.projet import ProjetAction, ProjetAttente, ProjetObjectif, ProjetPersonnalise

    usager = Usager(nom_naissance="MARTIN", premier_prenom_naissance="Léa", prenom_utilise=None, nom_utilise=None)
    projet = ProjetPersonnalise(id=1, numero=2, statut="propose", date_debut=dt.date(2026, 9, 1),
                                date_revision=dt.date(2027, 9, 1), referent_id=1, equipe=[1], synthese="Synthèse " * 40,
                                besoins=["1.1.1.8", "1.2.1.2", "1.3.3.3"], usager=usager,
                                etablissement=Etablissement(name="IME Les Sources"))
    projet.attentes = [ProjetAttente(auteur="personne", texte="Je veux aller à la piscine avec mes copains"),
                       ProjetAttente(auteur="entourage", auteur_nom="sa mère", texte="Qu'elle dorme mieux")]
    for i in range(10):
        objectif = ProjetObjectif(realisation=f"Objectif personnel {i // 3}", libelle=f"Objectif opérationnel {i}",
                                  libelle_falc=f"Je fais la chose {i}", besoins=["1.2.1.2"], indicateur_echelle="0-4",
                                  indicateur_cible=3)
        objectif.actions = [ProjetAction(libelle=f"Action {i}.{j} : accompagnement hebdomadaire", prestation="2.2.1.2",
                                         referent_id=1, frequence="chaque semaine", partenaires="club de sport",
                                         debut=dt.date(2026, 9, 1), fin=dt.date(2027, 6, 30)) for j in range(3)]
        projet.objectifs.append(objectif)
    return projet, {1: User(id=1, first_name="Emma", last_name="Éducatrice")}


def timed(fn, repeat=20):
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times)


def main():
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='sillage-bench-pp-')}/bench.db"
    from app import create_app
    from app.services.projet_pdf import falc_pdf, projet_pdf

    app = create_app()
    with app.test_request_context():
        projet, users = build()
        pages = len(projet_pdf(projet, users))
        print(f"PP 10 objectives / 30 actions, PDF        {timed(lambda: projet_pdf(projet, users)):7.1f} ms CPU ({pages} bytes)")
        print(f"the same, easy-read PDF                  {timed(lambda: falc_pdf(projet)):7.1f} ms CPU")


if __name__ == "__main__":
    main()
