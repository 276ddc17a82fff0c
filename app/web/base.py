"""What every Sillage view and API shares: permissions by resource, scope checks, archiving."""
from __future__ import annotations

from flask import abort, g
from flask_appbuilder.models.sqla.interface import SQLAInterface

from ..models.base import ArchivableMixin, utcnow
from ..security.roles import METHOD_ACTIONS
from ..security.scope import current_scope


class ArchivingInterface(SQLAInterface):
    """FAB's delete becomes an archive: records are never hard-deleted (views and APIs)."""

    def delete(self, item, commit: bool = True) -> None:
        if not isinstance(item, ArchivableMixin):
            raise TypeError(f"{type(item).__name__} cannot be archived")
        item.archived_at = utcnow()
        item.archived_by_id = getattr(g.get("user"), "id", None)
        if commit:
            self.session.commit()


class ResourcePermissions:
    """Map every FAB method to read / write / archive on one resource of the role matrix."""

    method_permission_name = METHOD_ACTIONS


def assert_etablissement_in_scope(etablissement_id, service_id=None):
    """Writes naming an établissement outside the user's scope answer 404, like reads."""
    s = current_scope()
    if s is not None and etablissement_id is not None and not s.allows(etablissement_id, service_id):
        abort(404)


class ScopedViewMixin(ResourcePermissions):
    """FAB ModelView hooks: a scope assertion on every write (the scope hook already filters
    reads, dropdowns and bulk actions, which re-fetch their ids through the scoped session)."""

    def _assert_scope(self, item):
        etab = getattr(item, "etablissement_id", None)
        if etab is None and hasattr(item, "etablissement"):
            etab = getattr(item.etablissement, "id", None)
        assert_etablissement_in_scope(etab, getattr(item, "service_id", None))

    def pre_add(self, item):
        self._assert_scope(item)

    def pre_update(self, item):
        self._assert_scope(item)

    def pre_delete(self, item):
        self._assert_scope(item)


def datamodel(model):
    """Archivable records are archived on delete; plain links (capacities, assignments) deleted."""
    return ArchivingInterface(model) if issubclass(model, ArchivableMixin) else SQLAInterface(model)



def login_required(view):
    """Pages every signed-in user has for themselves (their account), whatever their role."""
    import functools

    from flask import redirect, request, url_for
    from flask_login import current_user

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("SillageAuthView.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped


def local_path(value) -> str:
    """A `next=` target, only if it is a path of this site: "/" otherwise. Browsers drop tabs
    and newlines and read "\\" as "/" (`/%09/evil.example` becomes `//evil.example`, another
    site), so any of them, a scheme or a host refuses the target."""
    from urllib.parse import unquote, urlsplit

    if not isinstance(value, str) or not value.startswith("/") or len(value) > 2000:
        return "/"
    decoded = unquote(value)
    if any(c in decoded for c in "\\\t\r\n") or any(ord(c) < 32 or ord(c) == 127 for c in decoded):
        return "/"
    if decoded.startswith("//") or value.startswith("//"):
        return "/"
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else "/"
