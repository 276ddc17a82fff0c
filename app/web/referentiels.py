"""The référentiels console (Flask-Admin) at /referentiels/: bulk editing of reference lists.

Never personal data. Access is decided by FAB's security manager ("can_read"/"can_write" on
Referentiels: Administrateur and Qualité), forms carry the application's CSRF tokens (Flask-WTF), and every change goes
through the same audited session as the rest of Sillage. Entries are retired (active = no),
never deleted: past records keep pointing at them.
"""
from flask import abort, current_app, redirect, request, url_for
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.model import typefmt
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from sqlalchemy import inspect

from ..extensions import db
from ..models import (
    CategorieEtablissement, ModaliteAccueil, MotifSortie, TypeDocument, TypeEcrit, TypeReunion, ValeurListe,
)
from ..models.base import INTEGER_MAX
from ..security.roles import CATEGORIES
from .params import whole_number


def _allowed(action: str) -> bool:
    return current_user.is_authenticated and current_app.appbuilder.sm.has_access(f"can_{action}", "Referentiels")


class AccessMixin:
    def is_accessible(self):
        return _allowed("read")

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for(current_app.appbuilder.sm.auth_view.__class__.__name__ + ".login",
                                    next=request.full_path))
        abort(403)


class ConsoleHome(AccessMixin, AdminIndexView):
    @expose("/")
    def index(self):
        return self.render("referentiels/index.html")


class ConsoleForm(FlaskForm):
    """Flask-WTF's form: its token is the one the application-wide CSRF check accepts (Flask-Admin's
    SecureForm put a token of its own in the same field, and every save from a browser was refused);
    it keeps the edited object as Flask-Admin's validators expect it (a code is unique but itself)."""

    def __init__(self, formdata=_Auto, obj=None, **kwargs):
        super().__init__(formdata=formdata, obj=obj, **kwargs)
        self._obj = obj


def _yes_no(view, value, name=None):
    return _("Oui") if value else _("Non")


class ReferenceView(AccessMixin, ModelView):
    form_base_class = ConsoleForm
    # Oui / Non in the list and the CSV export (Flask-Admin shows an icon and exports True/False)
    column_type_formatters = {**typefmt.BASE_FORMATTERS, bool: _yes_no}
    column_type_formatters_export = {**typefmt.EXPORT_FORMATTERS, bool: _yes_no}
    can_delete = False
    can_export = True
    export_types = ["csv"]
    can_view_details = False
    page_size = 100
    column_default_sort = ("position", False)
    column_list = ["code", "label", "position", "active"]
    column_editable_list = ["label", "position", "active"]
    column_searchable_list = ["code", "label"]
    column_filters = ["active"]
    form_columns = ["code", "label", "position", "active"]
    column_labels = {"code": _l("Code"), "label": _l("Libellé"), "position": _l("Ordre"),
                     "active": _l("Actif"), "liste": _l("Liste")}

    def get_one(self, id):
        """An id no column holds names no entry (Flask-Admin then says so), not an overflow."""
        return super().get_one(id) if whole_number(id) is not None else None

    def get_list(self, page, *args, **kwargs):
        """A page number beyond the range (or negative) would overflow the query's OFFSET."""
        if page is not None:
            page = min(max(page, 0), INTEGER_MAX)
        return super().get_list(page, *args, **kwargs)

    @property
    def can_create(self):
        return _allowed("write")

    @property
    def can_edit(self):
        return _allowed("write")

    def on_form_prefill(self, form, id):
        # A code is referenced by exports and the forms engine: it never changes once created.
        form.code.render_kw = {"readonly": True}

    def on_model_change(self, form, model, is_created):
        if not _allowed("write"):
            abort(403)
        if not is_created:  # keep the stored code whatever was posted
            history = inspect(model).attrs.code.history
            if history.deleted:
                model.code = history.deleted[0]


class ValeurListeView(ReferenceView):
    column_list = ["liste", "code", "label", "position", "active"]
    column_searchable_list = ["liste", "code", "label"]
    column_filters = ["liste", "active"]
    form_columns = ["liste", "code", "label", "position", "active"]
    column_default_sort = [("liste", False), ("position", False)]


class CategorieView(ReferenceView):
    column_list = ["code", "label", "retention_years", "position", "active"]
    column_editable_list = ["label", "retention_years", "position", "active"]
    form_columns = ["code", "label", "retention_years", "position", "active"]
    column_labels = {**ReferenceView.column_labels, "retention_years": _l("Conservation (années après la sortie)")}


class TypeDocumentView(ReferenceView):
    column_list = ["code", "label", "categorie", "expire", "retention_years", "obligatoire_pour", "position", "active"]
    column_editable_list = ["label", "expire", "retention_years", "position", "active"]
    form_columns = ["code", "label", "categorie", "expire", "retention_years", "obligatoire_pour", "position", "active"]
    form_choices = {"categorie": list(CATEGORIES.items())}  # codes stored, French labels shown
    column_labels = {**ReferenceView.column_labels, "categorie": _l("Catégorie du secret partagé"),
                     "expire": _l("Expire"), "retention_years": _l("Conservation (années)"),
                     "obligatoire_pour": _l("Obligatoire pour les catégories d'établissement")}


class TypeEcritView(ReferenceView):
    """Types of écrits: whether one is validated before it leaves, by which roles (names of roles,
    comma separated), its default category, and the document type its PDF is filed as."""
    column_list = ["code", "label", "validation", "roles_validation", "categorie", "type_document", "position", "active"]
    column_editable_list = ["label", "validation", "roles_validation", "position", "active"]
    form_columns = ["code", "label", "validation", "roles_validation", "categorie", "type_document", "position", "active"]
    form_choices = {"categorie": list(CATEGORIES.items())}
    column_labels = {**ReferenceView.column_labels, "validation": _l("Validation requise"),
                     "roles_validation": _l("Rôles qui valident (séparés par des virgules)"),
                     "categorie": _l("Catégorie du secret partagé"), "type_document": _l("Type de document du PDF")}


def _console_catalogue() -> None:
    """Flask-Admin translates through its own domain, "admin", from its own package, and its French
    has English-isms ("Editer", "Créer Nouvel Enregistrement"). Flask-Babel merges a domain's
    directories in order, the last one winning: ours, added after Flask-Admin's, corrects only the
    strings translations/fr/LC_MESSAGES/admin.po lists. (Admin's `translations_path` is put
    first, so it can only add strings, never correct them.)"""
    from flask_admin.babel import domain

    from .. import ROOT

    ours = str(ROOT / "translations")
    if ours not in domain.translation_directories:
        domain._translation_directories = [*domain.translation_directories, ours]


def init_referentiels(app) -> Admin:
    from ..security.guards import csp_nonce

    _console_catalogue()
    admin = Admin(app, name="Sillage — référentiels", url="/referentiels", endpoint="referentiels",
                  csp_nonce_generator=csp_nonce,
                  index_view=ConsoleHome(name=_l("Accueil"), url="/referentiels", endpoint="referentiels"))
    session = db.session
    admin.add_view(CategorieView(CategorieEtablissement, session, name=_l("Catégories d'établissement"),
                                 endpoint="ref_categories"))
    admin.add_view(ReferenceView(ModaliteAccueil, session, name=_l("Modalités d'accueil"), endpoint="ref_modalites"))
    admin.add_view(ReferenceView(MotifSortie, session, name=_l("Motifs de sortie"), endpoint="ref_motifs"))
    admin.add_view(TypeDocumentView(TypeDocument, session, name=_l("Types de document"), endpoint="ref_documents"))
    admin.add_view(TypeEcritView(TypeEcrit, session, name=_l("Types d'écrit"), endpoint="ref_ecrits"))
    admin.add_view(ReferenceView(TypeReunion, session, name=_l("Types de réunion"), endpoint="ref_reunions"))
    admin.add_view(ValeurListeView(ValeurListe, session, name=_l("Listes de valeurs"), endpoint="ref_valeurs"))
    return admin
