"""The page frame, built once instead of on every page.

FAB's layout re-renders the whole menu on every request, asking the security manager about
each entry: about half of a light page. Here the asset tags are made once per process and the
menu once per role set and language, kept until the security stamp moves (a permission change
shows in every process's menus at its next request). Access itself is still checked per request.
"""
from __future__ import annotations

import functools

from flask import current_app, g, render_template, url_for
from flask_babel import get_locale, get_translations
from jinja2 import pass_context
from markupsafe import Markup

from ..extensions import db
from ..security import stamp

CSS = ("css/bootstrap.min.css", "css/fontawesome/fontawesome.min.css", "css/fontawesome/regular.min.css",
       "css/fontawesome/solid.min.css", "css/fontawesome/brands.min.css", "css/fontawesome/v4-shims.min.css",
       "css/bootstrap-datepicker/bootstrap-datepicker3.min.css", "css/select2/select2.min.css",
       "css/select2/select2-bootstrap.min.css", "css/flags/flags16.css", "css/ab.css")
HEAD_JS = ("js/jquery-latest.js", "js/ab_filters.js", "js/ab_actions.js")
TAIL_JS = ("js/bootstrap.min.js", "js/bootstrap-datepicker/bootstrap-datepicker.min.js", "js/select2/select2.min.js",
           "js/ab.js")


def assets() -> dict[str, Markup]:
    """<link>/<script> tags of FAB's and Sillage's static files (the same for every page)."""
    tags = current_app.extensions.get("sillage_assets")
    if tags is None:
        fab = lambda name: url_for("appbuilder.static", filename=name)  # noqa: E731
        own = lambda name: url_for("static", filename=name)  # noqa: E731
        css = [f'<link rel="icon" href="{own("favicon.svg")}" type="image/svg+xml">']
        css += [f'<link href="{fab(name)}" rel="stylesheet">' for name in CSS]
        css.append(f'<link href="{own("sillage.css")}" rel="stylesheet">')
        tags = {
            "css": Markup("\n".join(css)),
            "head_js": Markup("\n".join(f'<script src="{fab(name)}"></script>' for name in HEAD_JS)),
            "tail_js": Markup("\n".join([f'<script src="{fab(name)}"></script>' for name in TAIL_JS]
                                        + [f'<script src="{own("sillage.js")}"></script>'])),
        }
        current_app.extensions["sillage_assets"] = tags
    return tags


def menu() -> Markup:
    """The left part of the navbar for the signed-in user's roles (anonymous: empty)."""
    user = g.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return Markup("")
    roles = tuple(sorted(r.id for r in current_app.appbuilder.sm.get_user_roles(user)))
    key = ("menu", roles, str(get_locale()))
    return stamp.cached(db.session, key, lambda: Markup(render_template(
        "appbuilder/navbar_menu.html", menu=current_app.appbuilder.menu)))


def translations() -> dict:
    """`gettext`/`ngettext` bound to the request's catalogue: a page translates about a hundred
    strings, and Flask-Babel's globals look the catalogue up again for each one. Most have no
    variables: those are translated and formatted once per language and process."""
    bound = g.get("sillage_gettext")
    if bound is None:
        catalogue = get_translations()

        @pass_context
        def gettext(context, string, **variables):
            if not variables:
                if not isinstance(string, str):  # a lazy string: each cache lookup would translate it again
                    string = str(string)
                return _fixed_text(catalogue, string, context.eval_ctx.autoescape)
            text = catalogue.ugettext(string)
            return (Markup(text) if context.eval_ctx.autoescape else text) % variables

        @pass_context
        def ngettext(context, singular, plural, num, **variables):
            variables.setdefault("num", num)
            text = catalogue.ungettext(singular, plural, num)
            return (Markup(text) if context.eval_ctx.autoescape else text) % variables

        bound = g.sillage_gettext = {"gettext": gettext, "ngettext": ngettext}
    return bound


@functools.lru_cache(maxsize=4096)
def _fixed_text(catalogue, string: str, autoescape: bool):
    """A translation without variables, formatted once per language ("%%" still gives "%")."""
    text = catalogue.ugettext(string)
    return (Markup(text) if autoescape else text) % {}


def register(app):
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals.update(layout_assets=assets, layout_menu=menu, layout_lang=lambda: str(get_locale()))
    app.context_processor(translations)
    # The référentiels console's pages include the same navbar, which asks FAB about languages.
    app.context_processor(lambda: {"appbuilder": current_app.appbuilder})
