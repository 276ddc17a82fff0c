"""Sillage's FAB security manager: every security decision FAB asks for goes through here."""
from flask import abort, current_app, flash, g, has_request_context, jsonify, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import assoc_permissionview_role
from flask_appbuilder.security.forms import ResetPasswordForm
from flask_appbuilder.security.views import ResetMyPasswordView, ResetPasswordView, UserDBModelView
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.security import generate_password_hash

from ..domain.passwords import RULE
from ..models.base import utcnow
from . import stamp
from .fab_views import SillagePermissionView, SillagePermissionViewView, SillageRoleView, SillageViewMenuView
from .roles import ADMIN_ROLE, NOT_ADMIN


class OwnPasswordRedirect(ResetMyPasswordView):
    """FAB's own-password form does not ask for the current password: ours does."""

    class_permission_name = "ResetMyPasswordView"

    @expose("/form", methods=["GET", "POST"])
    def this_form_get(self):
        return redirect(url_for("PasswordView.change"))


def _password_help() -> str:
    return str(RULE) % {"n": current_app.config["SILLAGE_PASSWORD_MIN_LENGTH"]}


PASSWORD_HELP = LazyString(_password_help)  # FAB's own text claims nothing is checked


def _password_field(field: PasswordField, label, description) -> PasswordField:
    """FAB's password field with Sillage's label and help text (the validator is already ours)."""
    return PasswordField(label, description=description, validators=field.kwargs["validators"],
                         widget=field.kwargs["widget"])


def account_password_problems(password: str, user) -> list[str]:
    """The password rule with the account's own names, whoever sets it (the user, an administrator)."""
    from ..domain.passwords import password_problems

    return password_problems(password, current_app.config["SILLAGE_PASSWORD_MIN_LENGTH"],
                             (user.username, user.first_name, user.last_name, user.email))


class AdminResetPasswordForm(ResetPasswordForm):
    password = _password_field(ResetPasswordForm.password, _l("Mot de passe"), PASSWORD_HELP)


class AdminPasswordReset(ResetPasswordView):
    """An administrator sets a temporary password: the user must change it at next login."""

    class_permission_name = "ResetPasswordView"
    form = AdminResetPasswordForm

    def form_post(self, form):
        from ..web.params import arg

        pk = arg("pk")
        user = self.appbuilder.sm.get_user_by_id(pk) if pk is not None else None
        if user is None:
            abort(404)
        problems = account_password_problems(form.password.data, user)
        if problems:
            flash(problems[0], "danger")
            return redirect(request.full_path)
        self.appbuilder.sm.set_password(user, form.password.data, by_admin=True)
        flash(str(_l("Mot de passe réinitialisé : l'utilisateur devra le changer à sa prochaine connexion.")), "info")


class SillageUserView(UserDBModelView):
    """Accounts made by an administrator change their password at first login; a deactivated
    account loses its sessions at once."""

    class_permission_name = "UserDBModelView"
    show_template = "sillage/user_show.html"
    list_title, show_title = _l("Utilisateurs"), _l("Fiche de l'utilisateur")
    add_title, edit_title = _l("Nouvel utilisateur"), _l("Modifier l'utilisateur")
    add_form_extra_fields = {
        "password": _password_field(UserDBModelView.add_form_extra_fields["password"], _l("Mot de passe"),
                                    PASSWORD_HELP),
        "conf_password": _password_field(UserDBModelView.add_form_extra_fields["conf_password"],
                                         _l("Confirmation du mot de passe"), _l("Le même mot de passe, à nouveau.")),
    }
    # FAB's own texts speak of LDAP and OpenID and are half translated ("Actif?", "Nombre de session")
    label_columns = {
        "get_full_name": _l("Nom complet"), "first_name": _l("Prénom"), "last_name": _l("Nom"),
        "username": _l("Identifiant"), "password": _l("Mot de passe"), "active": _l("Actif"),
        "email": _l("Courriel"), "roles": _l("Rôles"), "groups": _l("Groupes"),
        "last_login": _l("Dernière connexion"), "login_count": _l("Nombre de connexions"),
        "fail_login_count": _l("Échecs de connexion consécutifs"), "created_on": _l("Créé le"),
        "created_by": _l("Créé par"), "changed_on": _l("Modifié le"), "changed_by": _l("Modifié par"),
        "conf_password": _l("Confirmation du mot de passe"),
    }
    description_columns = {
        "first_name": _l("Le ou les prénoms d'usage."),
        "last_name": _l("Le nom d'usage."),
        "username": _l("L'identifiant saisi à la connexion."),
        "active": _l("Un compte inactif ne peut plus se connecter et ses sessions sont fermées. Désactivez un "
                     "compte plutôt que de le supprimer : le journal d'audit garde ce qu'il a fait."),
        "email": _l("Adresse de courriel professionnelle."),
        "roles": _l("Les rôles donnent les droits du compte."),
        "groups": _l("Un groupe donne ses rôles à chacun de ses membres."),
    }

    def pre_add(self, item):
        problems = account_password_problems(item.password or "", item)
        if problems:  # (FAB shows it and keeps the form)
            raise ValueError(problems[0])
        super().pre_add(item)

    def post_add(self, item):
        from .auth import security_row

        security_row(item.id).must_change_password = True
        self.datamodel.session.commit()

    def pre_update(self, item):
        """Nobody changes their own roles: an administrator would give themselves a care role and
        read what the matrix keeps from them. Another administrator does it (audited)."""
        from sqlalchemy import inspect

        roles = inspect(item).attrs.roles.history
        if item.id == current_user.id and (roles.added or roles.deleted):
            self.datamodel.session.rollback()
            raise ValueError(str(_l("Vos propres rôles ne se changent pas ici : demandez-le à un autre administrateur.")))
        super().pre_update(item)

    def post_update(self, item):
        if not item.active:
            from ..extensions import db
            from .auth import revoke_user_tokens
            from .sessions import end_user_sessions

            end_user_sessions(item.id, connection=db.session.connection())
            revoke_user_tokens(item.id, "compte désactivé")  # (commits both)

    @expose("/reset-mfa/<int:pk>", methods=["POST"])
    def reset_mfa(self, pk):
        from .auth import reset_second_factor

        if not self.appbuilder.sm.has_access("can_edit", self.class_permission_name):
            return redirect("/")
        user = self.appbuilder.sm.get_user_by_id(pk)
        if user is not None:
            reset_second_factor(user, current_user.username)
            flash(str(_l("Double authentification réinitialisée : l'utilisateur l'activera à sa prochaine connexion.")),
                  "info")
        return redirect(url_for(".show", pk=pk))


class SillageSecurityManager(SecurityManager):
    from ..web.api.security import SillageSecurityApi as security_api
    from ..web.views.auth import SillageAuthView as authdbview

    userdbmodelview = SillageUserView
    rolemodelview = SillageRoleView
    permissionmodelview = SillagePermissionView
    viewmenumodelview = SillageViewMenuView
    permissionviewmodelview = SillagePermissionViewView
    resetmypasswordview = OwnPasswordRedirect
    resetpasswordview = AdminPasswordReset
    # FAB's "user statistics" chart loads its script from a CDN (no third-party request: it was empty)
    # and counts logins the audit trail already holds: not offered.
    userstatschartview = None

    def set_password(self, user, password: str, by_admin: bool = False) -> None:
        """The one place a password changes: hash, flags, and every session of the user ended."""
        from .audit import record_event
        from .auth import revoke_user_tokens, security_row
        from .sessions import end_user_sessions

        user.password = generate_password_hash(password, method=current_app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"),
                                               salt_length=16)
        row = security_row(user.id)
        row.must_change_password = by_admin
        row.password_changed_at = utcnow()
        # One transaction: never a new password with the old sessions and tokens still open.
        keep = None if by_admin or not has_request_context() else getattr(_session(), "sid", None)
        end_user_sessions(user.id, keep_sid=keep, connection=self.session.connection())
        revoke_user_tokens(user.id, "mot de passe changé", commit=False)
        record_event("password_changed", entity="Compte", entity_id=user.id,
                     details={"compte": user.username, "par_administrateur": by_admin},
                     connection=self.session.connection())
        self.session.commit()

    def reset_password(self, userid, password):
        self.set_password(self.get_user_by_id(userid), password, by_admin=True)

    def create_login_manager(self, app):
        lm = super().create_login_manager(app)
        lm.login_view = "SillageAuthView.login"
        lm.request_loader(_user_from_api_token)
        return lm

    def create_jwt_manager(self, app):
        from .sessions import api_session_alive

        jwt_manager = super().create_jwt_manager(app)
        jwt_manager.token_in_blocklist_loader(
            lambda _header, payload: not api_session_alive(payload.get("sid"), current_app))
        # A malformed, revoked or expired token is "not authenticated" (401), not a 422.
        jwt_manager.invalid_token_loader(lambda _reason: (jsonify(message=str(_l("Jeton invalide."))), 401))
        jwt_manager.revoked_token_loader(lambda _h, _p: (jsonify(message=str(_l("Session terminée."))), 401))
        jwt_manager.expired_token_loader(lambda _h, _p: (jsonify(message=str(_l("Jeton expiré."))), 401))
        return jwt_manager
    def _role_permissions(self, roles) -> frozenset:
        """All (permission, view) pairs of these roles, loaded in one query and kept until the
        security stamp moves: FAB otherwise issues one EXISTS query per menu entry and button."""
        key = tuple(sorted(r.id for r in roles))
        admin_ids = {r.id for r in roles if r.name == ADMIN_ROLE}

        def load():
            pv, link = self.permissionview_model, assoc_permissionview_role
            rows = (
                self.session.query(link.c.role_id, self.permission_model.name, self.viewmenu_model.name)
                .select_from(link)
                .join(pv, pv.id == link.c.permission_view_id)
                .join(self.permission_model, self.permission_model.id == pv.permission_id)
                .join(self.viewmenu_model, self.viewmenu_model.id == pv.view_menu_id)
                .filter(link.c.role_id.in_(key))
                .all()
            )
            # what the Administrateur never holds, even if its role is edited in FAB's role pages
            return frozenset((p, v) for r, p, v in rows if not (r in admin_ids and v in NOT_ADMIN))

        return stamp.cached(self.session, ("permissions", key), load)

    def load_user(self, pk):
        """The signed-in user with roles and groups (asked on every request), kept per process:
        users, roles and groups move the security stamp."""
        def load():
            user = self.session.execute(
                select(self.user_model).where(self.user_model.id == int(pk))
                .options(joinedload(self.user_model.roles), joinedload(self.user_model.groups))
            ).unique().scalar_one_or_none()
            return [user] if user is not None and user.is_active else []

        found = stamp.cached_instances(self.session, ("user", int(pk)), load,
                                       related=lambda user: (*user.roles, *user.groups))
        return found[0] if found else None

    def has_access(self, permission_name: str, view_name: str) -> bool:
        """FAB asks this for every menu entry and button (a dossier page: twenty times): the
        signed-in user's permissions are looked up once per request, then each answer is a set
        lookup. API tokens and anonymous requests take FAB's way."""
        if not has_request_context() or getattr(g, "_api_key_user", False) or not current_user.is_authenticated:
            return super().has_access(permission_name, view_name)
        user_id, permissions = g.get("sillage_permissions", (None, None))
        if user_id != current_user.id:
            user = self._get_safe_user(g.user)
            permissions = self._role_permissions(self.get_user_roles(user)) if user and user.is_active else frozenset()
            g.sillage_permissions = (current_user.id, permissions)
        return (permission_name, view_name) in permissions

    def _has_view_access(self, user, permission_name: str, view_name: str) -> bool:
        return (permission_name, view_name) in self._role_permissions(self.get_user_roles(user))

    def _get_user_permission_view_menus(self, user, permission_name, view_menus_name):
        roles = [self.get_public_role()] if user is None else self.get_user_roles(user)
        roles = [r for r in roles if r is not None]
        perms = self._role_permissions(roles)
        return {name for name in view_menus_name if (permission_name, name) in perms}

    def is_item_public(self, permission_name, view_name):
        # Sillage has no public resources: skip FAB's query of the public role.
        return False

    def add_permissions_view(self, base_permissions, view_menu):
        """Only add. Several views share one resource (the dossier page, the search page and the
        API all use "Usager"): FAB's version deletes the permissions a given view lacks, which
        would strip the others'. Roles get their permissions from roles.sync_roles."""
        self.add_view_menu(view_menu)
        for permission in base_permissions:
            if not self.find_permission_view_menu(permission, view_menu):
                self.add_permission_view_menu(permission, view_menu)

    def add_permissions_menu(self, view_menu_name):
        self.add_view_menu(view_menu_name)
        if not self.find_permission_view_menu("menu_access", view_menu_name):
            self.add_permission_view_menu("menu_access", view_menu_name)


def _session():
    from flask import session

    return session


def _user_from_api_token(req):
    """A personal API token (`Authorization: Bearer sil_…`) signs in for that request only."""
    from .auth import user_for_token

    header = req.headers.get("Authorization", "")
    if not req.path.startswith("/api/") or not header.startswith("Bearer sil_"):
        return None
    found = user_for_token(header[len("Bearer "):].strip())
    if found is None:
        return None
    user, token = found
    g.api_token = token
    return user
