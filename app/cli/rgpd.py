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
               f"{manifest['counts'].get('usager', 0)} usagers. Ancrez la chaîne d'audit restaurée : "
               "flask sillage audit reanchor --confirm (le journal garde le dernier ancrage précédent), "
               "puis vérifiez-la : flask sillage audit verify")


@sillage_cli.command("retention")
@click.option("--dry-run", is_flag=True, help="Liste sans rien modifier.")
def retention_command(dry_run):
    """Dossiers à archiver (sortis depuis 12 mois) ou à anonymiser (conservation échue) ; les traite."""
    from ..services import drafts
    from ..services.rgpd import apply_retention, due

    days = current_app.config["SILLAGE_DRAFT_DAYS"]
    if not dry_run:
        click.echo(f"{drafts.purge(db.session, days)} brouillons de saisie de plus de {days} jours supprimés.")
    items = due(db.session)
    for item in items:
        verb = "archiver" if item.action == "archive" else "anonymiser"
        click.echo(f"usager {item.usager_id}\t{verb}\t{item.due_on.isoformat()}\t{item.reason}")
    if not items:
        click.echo("Aucun dossier à archiver ni à anonymiser.")
        return
    if dry_run:
        click.echo(f"{len(items)} dossiers concernés (simulation : rien n'a été modifié).")
        return
    apply_retention(db.session, current_app.config["SILLAGE_DATA_DIR"], items)
    click.echo(f"{len(items)} dossiers traités.")


@sillage_cli.command("export-usager")
@click.argument("usager_id", type=int)
@click.argument("dest", type=click.Path(dir_okay=False))
def export_usager_command(usager_id, dest):
    """Export RGPD (ZIP : JSON, xlsx, PDF, documents) d'un usager dans le fichier DEST."""
    from pathlib import Path

    from ..models import Usager
    from ..security.audit import record_event
    from ..services.rgpd_export import export_zip

    usager = db.session.get(Usager, usager_id)
    if usager is None:
        raise click.BadParameter(f"usager inconnu : {usager_id}", param_hint="USAGER_ID")
    data = export_zip(db.session, usager, current_app.config["SILLAGE_DATA_DIR"])
    Path(dest).write_bytes(data)
    record_event("export", entity="Usager", entity_id=usager_id, usager_id=usager_id, details={"fichier": dest})
    click.echo(f"Export écrit : {dest} ({len(data)} octets).")
