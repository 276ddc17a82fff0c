"""`flask sillage …` commands. They run as the system (no row-level scope), like migrations."""
from __future__ import annotations

import base64
import os
from pathlib import Path

import click
from flask import current_app
from flask_babel import gettext as _

from ..extensions import db
from .french import SillageGroup

sillage_cli = SillageGroup("sillage", help="Commandes d'administration de Sillage.")


@sillage_cli.command("init")
def init_command():
    """Référentiels par défaut, permissions et rôles (idempotent)."""
    from .. import register_web_now
    from ..security.roles import sync_roles
    from ..services.forms import load_shipped
    from ..services.referentiels import load_reference_data

    register_web_now(current_app)  # the permissions come from the views
    load_reference_data(db.session)
    sync_roles(current_app.appbuilder)
    added = load_shipped(db.session)
    click.echo("Référentiels, permissions et rôles à jour.")
    if added:
        click.echo("Formulaires publiés : " + ", ".join(added))


def _password_file() -> Path:
    return Path(current_app.instance_path) / "demo-password.txt"


@sillage_cli.command("demo")
@click.option("--password", help="Mot de passe des comptes de démonstration (sinon : aléatoire).")
@click.option("--totp-secret", help="Secret TOTP (base32) donné à tous les comptes de démonstration "
                                    "(sinon : chacun active sa double authentification à la première connexion).")
def demo_command(password, totp_secret):
    """Organisation de démonstration, usagers et comptes (idempotent)."""
    from .. import register_web_now
    from ..domain.passwords import password_problems
    from ..security.roles import sync_roles
    from ..services.demo import ACCOUNTS, enrol_demo_accounts, load_demo
    from ..services.maintenance import refresh_statistics

    if password and (problems := password_problems(password, current_app.config["SILLAGE_PASSWORD_MIN_LENGTH"])):
        raise click.BadParameter(problems[0], param_hint="--password")
    if totp_secret:
        totp_secret = totp_secret.replace(" ", "").upper()
        try:
            base64.b32decode(totp_secret + "=" * (-len(totp_secret) % 8), casefold=True)
        except ValueError:
            raise click.BadParameter("secret base32 invalide (lettres A-Z et chiffres 2-7)", param_hint="--totp-secret")
        if len(totp_secret) < 16:
            raise click.BadParameter("au moins 16 caractères base32 (80 bits)", param_hint="--totp-secret")
    register_web_now(current_app)  # the permissions come from the views
    sync_roles(current_app.appbuilder)
    created, used, new_people = load_demo(current_app.appbuilder.sm, db.session, password)
    if totp_secret:
        enrol_demo_accounts(current_app.appbuilder.sm, db.session, totp_secret)
    if new_people:
        refresh_statistics(db.session)  # a bulk load: the planner's statistics are out of date
    pw_file = _password_file()
    if created and not password:
        pw_file.parent.mkdir(parents=True, exist_ok=True)
        pw_file.write_text(used + "\n")
        os.chmod(pw_file, 0o600)
    click.echo("Données de démonstration créées." if new_people else "Données de démonstration déjà présentes.")
    click.echo("Comptes de démonstration :")
    for username, *_rest, role, _places in ACCOUNTS:
        click.echo(f"  {username:<22} {role}")
    from ..services.demo_portal import demo_account

    family = demo_account(db.session)
    if family is not None:  # (a demo account: its key is shown like the demo password)
        click.echo(f"Portail des familles (/portail/connexion) : {family.email}, même mot de passe ; "
                   f"clé TOTP à saisir dans l'application : {family.totp_secret}")
    if created:
        click.echo(f"Mot de passe des comptes créés : {used}")
    elif pw_file.exists():
        click.echo(f"Comptes déjà existants ; mot de passe généré au premier lancement : {pw_file.read_text().strip()}")
    else:
        click.echo("Comptes déjà existants ; mot de passe inchangé.")
    click.echo("Double authentification : " + ("secret TOTP commun donné à tous les comptes." if totp_secret else
                                               "chaque compte l'active à sa première connexion (QR code)."))


@sillage_cli.command("generate")
@click.option("--usagers", "count", type=click.IntRange(1, 1_000_000), default=3000, show_default=True,
              help="Nombre d'usagers à créer (sans --profile).")
@click.option("--profile", type=click.Choice(["benchmark"]), default=None,
              help="benchmark : 10 établissements, 30 000 usagers, 60 000 évaluations, 600 000 transmissions, "
                   "20 000 projets, 100 000 documents, 3 millions d'entrées d'audit.")
@click.option("--scale", type=click.FloatRange(0.0001, 10), default=1.0, show_default=True,
              help="Échelle des volumes du profil (0.01 : un centième).")
@click.option("--etablissements", type=click.IntRange(2, 1000), default=None,
              help="Nombre d'établissements du profil (10 sinon, à toute échelle) : avec --scale 1 "
                   "--etablissements 100, chacun a la taille d'un établissement à --scale 0.1.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Graine du hasard : la même graine donne les mêmes données.")
def generate_command(count, profile, scale, etablissements, seed):
    """Données réalistes en masse (Faker fr_FR) pour les essais de charge."""
    from ..security.stamp import move_data_version
    from ..services.maintenance import refresh_statistics
    from ..services.referentiels import load_reference_data

    load_reference_data(db.session)
    if profile == "benchmark":
        _generate_benchmark(scale, seed, etablissements)
    else:
        from ..services.generate import generate

        with click.progressbar(length=count, label=_("Usagers")) as bar:
            last = [0]

            def progress(done):
                bar.update(done - last[0])
                last[0] = done

            try:
                generate(db.session, count, seed, progress)
            except LookupError:
                raise click.ClickException(_("Aucun service : lancez d'abord « flask sillage demo »."))
        click.echo(_("%(n)s usagers créés.", n=count))
    move_data_version(db.session)  # bulk inserts bypass the ORM: running servers recount their lists
    refresh_statistics(db.session)  # a bulk load: the planner's statistics are out of date
    click.echo(_("Statistiques de la base mises à jour."))


def _generate_benchmark(scale: float, seed: int, etablissements: int | None) -> None:
    from contextlib import contextmanager

    from flask_babel import gettext as _

    from ..services.forms import load_shipped
    from ..services.generate_benchmark import benchmark

    load_shipped(db.session)  # the AGGIR grid the evaluations are made with

    @contextmanager
    def progress(label, total):
        with click.progressbar(length=total, label=label.ljust(30)) as bar:
            yield bar.update

    try:
        made = benchmark(db.session, current_app.config["SILLAGE_DATA_DIR"], scale=scale, seed=seed,
                         progress=progress, etablissements=etablissements)
    except LookupError:
        raise click.ClickException(_("Aucun compte ou référentiel : lancez d'abord « flask sillage demo »."))
    click.echo(_("Organisation de test créée : %(etablissements)s établissements, %(usagers)s usagers, "
                 "%(evaluations)s évaluations, %(transmissions)s transmissions, %(projets)s projets personnalisés, "
                 "%(documents)s documents, %(audit)s entrées d'audit.", **made))


@sillage_cli.command("maintenance")
def maintenance_command():
    """Statistiques du planificateur (ANALYZE) et index de recherche : après un chargement en masse, ou chaque nuit."""
    from ..services.maintenance import refresh_statistics

    for statement in refresh_statistics(db.session):
        click.echo(statement)
    click.echo("Statistiques de la base mises à jour.")


from . import messages, rgpd, security  # noqa: E402,F401  (register their commands on sillage_cli)
