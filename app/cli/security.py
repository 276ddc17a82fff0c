"""`flask sillage audit verify|purge|reanchor`, `flask sillage token create|list|revoke`,
`flask sillage user reset-mfa`: security administration from the server's shell."""
from __future__ import annotations

import datetime as dt
import os
import re

import click
from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import ApiToken, User
from ..models.base import utcnow
from ..domain import clock
from . import sillage_cli


@sillage_cli.group("audit")
def audit_cli():
    """Journal d'audit : vérification de la chaîne, purge, réancrage."""


@audit_cli.command("verify")
@click.option("--anchor", "anchors", multiple=True, type=click.Path(dir_okay=False),
              help="Fichier d'ancrage à confronter à la chaîne (répétable, un par serveur ; "
                   "défaut : SILLAGE_AUDIT_ANCHOR).")
@click.option("--complet", "complete", is_flag=True,
              help="Vérifie toute la chaîne depuis son début, pas seulement depuis le dernier point de contrôle.")
@click.option("--jobs", type=click.IntRange(1, 64), default=None,
              help="Processus vérifiant la chaîne, chacun un segment (défaut : un par processeur).")
def audit_verify(anchors, complete, jobs):
    """Vérifie la chaîne depuis le dernier point de contrôle signé (--complet : depuis le début) et sa fin
    (ancrage hors de la base) ; enregistre un nouveau point de contrôle ; code de sortie 1 si altération."""
    from flask_babel import gettext as _

    from ..security.audit_chain import record_verification, verify

    with db.engine.connect() as conn:
        verdict = verify(conn, anchors=list(anchors) or None, complete=complete, jobs=jobs or os.cpu_count() or 1)
    if verdict.ok:
        with db.engine.begin() as conn:
            record_verification(conn, verdict)
        scope = (_("depuis le début de la chaîne") if verdict.complete
                 else _("depuis le point de contrôle de l'entrée n° %(id)s", id=verdict.from_id))
        click.echo(_("Journal d'audit intègre : %(count)s entrées vérifiées %(scope)s", count=verdict.checked,
                     scope=scope)
                   + (_(", fin attestée hors de la base jusqu'à l'entrée n° %(id)s.", id=verdict.anchored_id)
                      if verdict.anchored_id is not None else "."))
        return
    where = (_("première entrée fautive n° %(id)s ", id=verdict.first_bad_id)
             if verdict.first_bad_id is not None else "")
    click.echo(_("Journal d'audit ALTÉRÉ : %(where)s(%(reason)s) ; %(count)s entrées chaînées sans erreur.",
                 where=where, reason=verdict.reason, count=verdict.checked), err=True)
    if not verdict.complete:
        click.echo(_("(vérification depuis le point de contrôle de l'entrée n° %(id)s ; « --complet » vérifie "
                     "toute la chaîne)", id=verdict.from_id), err=True)
    raise SystemExit(1)


@audit_cli.command("reanchor")
@click.option("--confirm", is_flag=True, help="Confirme que la fin de chaîne actuelle est légitime (restauration).")
def audit_reanchor(confirm):
    """Repart d'un nouvel ancrage après une restauration légitime ; enregistré au journal."""
    from ..security import audit_anchor
    from ..security.audit import record_event
    from ..security.audit_chain import record_verification, verify

    if not confirm:
        raise click.UsageError("le réancrage accepte la fin actuelle de la chaîne, même si des entrées ont été "
                               "supprimées depuis le dernier ancrage : à faire seulement après une restauration "
                               "légitime, avec --confirm.")
    with db.engine.connect() as conn:
        verdict = verify(conn, anchors=[])
    if not verdict.ok:
        raise click.ClickException(f"chaîne altérée à l'entrée n° {verdict.first_bad_id} ({verdict.reason}) : "
                                   "réancrage refusé.")
    with db.engine.begin() as conn:  # the next verification starts from the end accepted here
        record_verification(conn, verdict)
    previous = audit_anchor.last_anchor()
    record_event("audit_reanchor", entity="JournalAudit", details={
        "fichier": audit_anchor.configured_path(), "ancrage_precedent": previous, "entrees": verdict.checked})
    with db.engine.connect() as conn:
        head_id, path = audit_anchor.reanchor(conn)
    before = (f" ; l'ancrage précédent attestait l'entrée n° {previous['entree']} ({previous['le']})"
              if previous else "")
    click.echo(f"Nouvel ancrage dans {path} à partir de l'entrée n° {head_id}{before}.")


@audit_cli.command("purge")
@click.option("--days", type=click.IntRange(183, 36500), default=None,
              help="Durée de conservation en jours (défaut : SILLAGE_AUDIT_RETENTION_DAYS ; au moins six mois).")
def audit_purge(days):
    """Supprime les entrées plus anciennes que la durée de conservation (point de contrôle signé)."""
    from ..security.audit_chain import purge

    days = days or current_app.config["SILLAGE_AUDIT_RETENTION_DAYS"]
    before = utcnow() - dt.timedelta(days=days)
    with db.engine.begin() as conn:
        count = purge(conn, before)
    click.echo(f"{count} entrées antérieures au {before:%d/%m/%Y} purgées ; point de contrôle signé enregistré."
               if count else "Rien à purger.")


def _user(username: str) -> User:
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise click.BadParameter(f"compte inconnu : {username}", param_hint="USERNAME")
    return user


def _days(text: str) -> int:
    match = re.fullmatch(r"(\d{1,4})\s*([dj]?)", text.strip().lower())
    if not match or not 1 <= int(match.group(1)) <= 3650:
        raise click.BadParameter("durée attendue : 1d à 3650d (par ex. 90d)", param_hint="--expires")
    return int(match.group(1))


@sillage_cli.group("token")
def token_cli():
    """Jetons d'accès personnels à l'API."""


@token_cli.command("create")
@click.argument("username")
@click.option("--scope", type=click.Choice(["read", "write"]), required=True,
              help="read : lecture seule ; write : lecture et écriture.")
@click.option("--expires", default="90d", show_default=True, help="Durée de validité, en jours (90d).")
@click.option("--name", default="CLI", show_default=True, help="Nom du jeton (à quoi il sert).")
def token_create(username, scope, expires, name):
    """Crée un jeton et l'affiche une seule fois (seule son empreinte est conservée)."""
    from ..security.audit import record_event
    from ..security.auth import create_token

    user = _user(username)
    days = _days(expires)
    raw = create_token(user, scope, days, name)
    record_event("token_created", entity="ApiToken", details={"compte": username, "portee": scope, "jours": days,
                                                              "nom": name})
    click.echo(raw)


@token_cli.command("list")
@click.argument("username", required=False)
def token_list(username):
    """Jetons (d'un compte, ou de tous), avec leur dernier usage."""
    stmt = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)
    if username:
        stmt = stmt.where(User.username == username)
    now = utcnow()
    for token, owner in db.session.execute(stmt):
        state = "révoqué" if token.revoked_at else "expiré" if token.expires_at <= now else "actif"
        used = clock.datetime_text(token.last_used_at) if token.last_used_at else "jamais utilisé"
        click.echo(f"{token.id}\t{owner}\t{token.prefix}…\t{token.scope}\t{token.name}\t"
                   f"expire {clock.date_text(token.expires_at)}\t{used}\t{state}")


@token_cli.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id):
    """Révoque un jeton (numéro donné par `token list`)."""
    from ..security.audit import record_event
    from ..security.auth import revoke_token

    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.BadParameter(f"jeton inconnu : {token_id}", param_hint="TOKEN_ID")
    revoke_token(token)
    record_event("token_revoked", entity="ApiToken", entity_id=token_id)
    click.echo(f"Jeton {token_id} révoqué.")


@sillage_cli.group("user")
def user_cli():
    """Comptes : réinitialisation de la double authentification."""


@user_cli.command("reset-mfa")
@click.argument("username")
def user_reset_mfa(username):
    """Retire la double authentification d'un compte (il l'activera à sa prochaine connexion)."""
    from ..security.auth import reset_second_factor

    reset_second_factor(_user(username), "cli")
    click.echo(f"Double authentification de {username} réinitialisée ; ses sessions sont fermées.")
