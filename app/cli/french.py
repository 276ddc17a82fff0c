"""`flask sillage … --help` in French, its frame included: click writes "Usage:", "Commands",
"Show this message and exit.", "[default: …]" and its type names (TEXT, INTEGER) in English, with
no catalogue to translate them. Every Sillage command and group uses these classes (the group
gives them to the commands and groups declared under it), so the help is French throughout.

Flask's, Flask-Migrate's and FAB's own commands (`flask run`, `flask db`, `flask fab`) stay as
their libraries wrote them: they are the developers' tools, not Sillage's interface.
"""
from __future__ import annotations

import re

import click
from flask.cli import AppGroup

HELP = "Affiche cette aide et quitte."
HEADINGS = {"Commands": "Commandes", "Arguments": "Arguments", "Options": "Options"}
TYPES = {"INTEGER RANGE": "ENTIER", "INTEGER": "ENTIER", "FLOAT RANGE": "NOMBRE", "FLOAT": "NOMBRE",
         "TEXT": "TEXTE", "FILE": "FICHIER", "FILENAME": "FICHIER", "PATH": "CHEMIN", "DIRECTORY": "DOSSIER",
         "BOOLEAN": "OUI/NON"}
_TYPE = re.compile(r"\b(?:" + "|".join(sorted(TYPES, key=len, reverse=True)) + r")\b")
_EXTRA = re.compile(r"\[([^\[\]]*)\]$")  # what click appends to an option's help


def _extra(match: re.Match) -> str:
    text = match.group(1).replace("default: ", "défaut : ").replace("required", "obligatoire").replace("; ", " ; ")
    return f"[{text}]"


class FrenchHelpFormatter(click.HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        args = args.replace("COMMAND [ARGS]...", "COMMANDE [ARGUMENTS]...")
        super().write_usage(prog, args, "Utilisation : " if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{HEADINGS.get(heading, heading)} :\n")

    def write_dl(self, rows, *args, **kwargs) -> None:
        rows = [(_TYPE.sub(lambda m: TYPES[m.group(0)], term), _EXTRA.sub(_extra, text)) for term, text in rows]
        super().write_dl(rows, *args, **kwargs)


class FrenchContext(click.Context):
    formatter_class = FrenchHelpFormatter


class FrenchHelpOption:
    context_class = FrenchContext

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP
        return option


class SillageCommand(FrenchHelpOption, click.Command):
    pass


class SillageGroup(FrenchHelpOption, AppGroup):
    command_class = SillageCommand
    subcommand_metavar = "COMMANDE [ARGUMENTS]..."

    def group(self, *args, **kwargs):
        kwargs.setdefault("cls", SillageGroup)  # (AppGroup would make its subgroups AppGroups)
        return super().group(*args, **kwargs)
