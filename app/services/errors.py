"""Errors raised by services and shown by every web layer (forms, API) the same way."""
from flask_babel import gettext as _


class ServiceError(Exception):
    pass


class ValidationFailed(ServiceError):
    """Field → message. Nothing was written."""

    def __init__(self, errors: dict):
        super().__init__(errors)
        self.errors = errors


class StaleVersion(ServiceError):
    """The record changed since the user loaded it; `changes` says what changed meanwhile."""

    def __init__(self, current_version: int, changes: list[dict]):
        super().__init__(current_version)
        self.current_version = current_version
        self.changes = changes

    @property
    def message(self) -> str:
        return _("Ce dossier a été modifié par quelqu'un d'autre pendant votre saisie "
                 "(version %(version)s). Vos valeurs sont conservées ci-dessous : vérifiez-les "
                 "et enregistrez à nouveau.", version=self.current_version)


class DuplicateSuspected(ServiceError):
    """Possible duplicates of an usager being created: the user must decide, nothing is merged."""

    def __init__(self, candidates: list):
        super().__init__(len(candidates))
        self.candidates = candidates
