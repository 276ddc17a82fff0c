"""`flask sillage backup|restore|retention|export`: data protection from the server's shell."""
from __future__ import annotations

import click
from flask import current_app

from ..extensions import db
from . import sillage_cli


@sillage_cli.command("backup")
@click.argument("dest", type=click.Path(dir_okay=False))
def backup_command(dest):
    """Sauvegarde cohérente (base + documents) dans l'archive DEST (.tar.gz), sans arrêter Sillage."""
    from ..security.audit import record_event
    from ..services.backup import BackupError, backup

    try:
        manifest = backup(current_app.config["SQLALCHEMY_DATABASE_URI"], current_app.config["SILLAGE_DATA_DIR"], dest)
    except BackupError as error:
        raise click.ClickException(str(error))
    record_event("backup", entity="Instance", details={"fichier": dest, "comptes": manifest["counts"]})
    click.echo(f"Sauvegarde écrite : {dest} ({manifest['counts'].get('usager', 0)} usagers, "
               f"{manifest['documents']} documents).")


@sillage_cli.command("restore")
@click.argument("src", type=click.Path(dir_okay=False))
def restore_command(src):
    """Restaure l'archive SRC sur une instance vide (base et dossier des documents vides)."""
    from ..services.backup import BackupError, restore

    db.engine.dispose()
    try:
        manifest = restore(current_app.config["SQLALCHEMY_DATABASE_URI"], current_app.config["SILLAGE_DATA_DIR"], src)
    except BackupError as error:
        raise click.ClickException(str(error))
    click.echo(f"Restauration terminée : sauvegarde du {manifest['created_at'][:16]}, "
               f"{manifest['counts'].get('usager', 0)} usagers. Vérifiez la chaîne d'audit : flask sillage audit verify")
