"""Every submission of a form, all versions, as an xlsx workbook.

One column per field code of every version (the label of the newest version that has it), so
a question removed from the grid never vanishes from the history; computed results follow.
Rows are loaded through the ORM: the user's scope and the shared secret filter them, and the
read audit records them, like any page.
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..domain.forms.definition import all_fields, is_repeated, nested_codes, repeated_members
from ..domain.forms.diff import renames
from ..models import Evaluation, Usager
from .forms import versions, withheld_fields
from .xlsx import Workbook

FIXED = (_l("Usager n°"), _l("Nom de naissance"), _l("Premier prénom"), _l("Date"), _l("Statut"), _l("Version"),
         _l("Validée le"), _l("Corrige"))


def columns(session, code: str, scope=None) -> tuple[list[tuple[str, str]], list[tuple[str, str]], dict[str, list[str]]]:
    """([(field code, label)] answered across every version, [(computed code, label)],
    {repeatable group: its members' codes in order}), without the fields (answers or computed)
    of a category the user does not read in some version: not even an empty column."""
    labels, computed, members = {}, {}, {}
    rows = versions(session, code)
    withheld = set().union(*(withheld_fields(row.data, scope) for row in rows))
    renamed = renamed_codes(rows)
    for row in rows:  # oldest first: codes in order of appearance
        nested = nested_codes(row.data)
        for field, _parts in all_fields(row.data):
            if field["type"] == "note" or field["code"] in nested or field["code"] in withheld or (
                    field["code"] in renamed) or (field["type"] == "group" and not is_repeated(field)):
                continue
            if is_repeated(field):
                order = members.setdefault(field["code"], [])
                order.extend(m["code"] for m in repeated_members(field) if m["code"] not in order)
            if field["type"] == "computed":
                computed[field["code"]] = field.get("label") or field["code"]
            else:
                labels[field["code"]] = field.get("label") or field["code"]  # newest label wins
    return list(labels.items()), list(computed.items()), members


def renamed_codes(rows) -> dict[str, str]:
    """{old code: its newest code} from the `renamed_from` of every version: answers given under
    an old code land in the column of the field it became."""
    direct = {}
    for row in rows:
        direct.update(renames(row.data))
    resolved = {}
    for old in direct:
        new, seen = direct[old], {old}
        while new in direct and new not in seen:
            seen.add(new)
            new = direct[new]
        resolved[old] = new
    return resolved


def _cell(value, order=()):
    if isinstance(value, bool):
        return _("Oui") if value else _("Non")
    if isinstance(value, list) and any(isinstance(i, dict) for i in value):  # lines of a repeatable group
        return " | ".join(", ".join(f"{k}: {_cell(line[k])}" for k in [*order, *sorted(set(line) - set(order))]
                                    if k in line) for line in value if isinstance(line, dict))
    if isinstance(value, list):
        return "; ".join(map(str, value))
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return value


def export_xlsx(session, code: str, scope=None) -> tuple[bytes, int]:
    """(workbook bytes, number of submissions) as `scope` may read them."""
    fields, computed, members = columns(session, code, scope)
    evaluations = session.execute(select(Evaluation).where(Evaluation.form_code == code, Evaluation.archived_at.is_(None))
                                  .order_by(Evaluation.evaluated_on, Evaluation.id)).scalars().all()
    ids = sorted({e.usager_id for e in evaluations})
    usagers = {u.id: u for u in session.execute(select(Usager).where(Usager.id.in_(ids))).scalars()} if ids else {}
    book = Workbook()
    sheet = book.sheet(code)
    sheet.header([*map(str, FIXED), *(c for c, _label in fields), *(c for c, _label in computed)],
                 ["", "", "", "", "", "", "", "", *(label for _c, label in fields),
                  *(_("calcul : %(l)s", l=label) for _c, label in computed)])
    renamed = renamed_codes(versions(session, code))
    for e in evaluations:
        usager = usagers.get(e.usager_id)
        answers = {renamed.get(k, k): v for k, v in (e.answers or {}).items()}
        sheet.row([
            e.usager_id, usager.nom_naissance if usager else None, usager.premier_prenom_naissance if usager else None,
            e.evaluated_on, _("validée") if e.status == "validated" else _("brouillon"), e.form_version, e.validated_at,
            e.corrects_id, *(_cell(answers.get(c), members.get(c, ())) for c, _label in fields),
            *(_cell(e.computed.get(c)) for c, _label in computed)])
    sheet.freeze("D3")
    return book.bytes(), len(evaluations)
