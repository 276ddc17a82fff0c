"""`flask sillage messages purge`: the retention of the internal messaging."""
from __future__ import annotations

import click

from ..extensions import db
from . import sillage_cli


@sillage_cli.group("messages")
def messages_cli():
    """Messagerie interne : durée de conservation."""


@messages_cli.command("purge")
@click.option("--jours", type=click.IntRange(1, 36500), default=None,
              help="Supprime les fils dont le dernier message a plus de ce nombre de jours "
                   "(défaut : SILLAGE_MESSAGE_RETENTION_DAYS).")
def messages_purge(jours):
    """Supprime les fils de discussion au-delà de la durée de conservation, avec leurs pièces jointes."""
    from ..services import messages

    count = messages.purge(db.session, days=jours)
    click.echo(f"{count} fil(s) de discussion supprimé(s).")
