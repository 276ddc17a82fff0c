"""The app under benchmark, plus two routes returning N bytes of HTML to compare with:

- `/__floor/N`: a bare route (the issue's floor);
- `/__frame/ID/N`: the same bytes behind what every dossier request must do before its content:
  the server-side session, the signed-in user and the guards, one scoped load of the usager and
  the read-audit entry. It shows how much of a page is its content.
"""
from flask import Response, abort
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.models import Usager
from run import app  # served as production serves it


def _html(size: int) -> Response:
    return Response(("<p>" + "x" * max(size - 7, 0) + "</p>")[:size], mimetype="text/html")


@app.route("/__floor/<int:size>")
def floor(size: int):
    return _html(size)


@app.route("/__frame/<int:usager_id>/<int:size>")
def frame(usager_id: int, size: int):
    if not current_user.is_authenticated:
        abort(401)
    if db.session.execute(select(Usager).where(Usager.id == usager_id)).scalar_one_or_none() is None:
        abort(404)  # outside the user's scope, as the dossier page answers
    return _html(size)
