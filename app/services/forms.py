"""Form definitions in the database (shipped ones loaded by `flask sillage init`), computing
answers, and storing evaluations with their frozen results."""
from __future__ import annotations

import re
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm.attributes import set_committed_value

from ..domain import clock
from ..domain.forms import definition as definitions
from ..domain.forms import variants
from ..domain.forms.definition import all_fields
from ..domain.forms.engine import evaluate
from ..models import (
    Admission, CategorieEtablissement, Etablissement, Evaluation, EvaluationResult, FormDefinition, ValeurListe,
)
from ..models.base import utcnow
from ..security import stamp
from ..security.scope import category_key, constant
from .errors import ValidationFailed

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"


def load_shipped(session) -> list[str]:
    """Publish every definition of forms/ not yet in the database (by code and version).
    A published version is immutable: an edited file must carry a new version number."""
    added = []
    for path in sorted(FORMS_DIR.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        data = definitions.load(text)
        exists = session.execute(select(FormDefinition.id).where(
            FormDefinition.code == data["code"], FormDefinition.version == data["version"])).first()
        if exists:
            continue
        for version in versions(session, data["code"]):
            if version.status == "published":
                version.status = "retired"
        session.add(FormDefinition(code=data["code"], version=data["version"], status="published",
                                   kind=data["kind"], title=data["title"], source_text=text, data=data,
                                   origin=f"forms/{path.name}", published_at=utcnow(), family=data["code"]))
        session.flush()
        follow_base(session, data["code"])
        added.append(f"{data['code']} v{data['version']}")
    session.commit()
    return added


def published(session, kind: str | None = None) -> list[FormDefinition]:
    """The latest published version of each code (of one kind: `evaluation`, `dossier_section`).

    Asked by every dossier page, so kept per process until the security stamp moves (any change
    of a definition moves it: which fields are withheld depends on them). A published version
    never changes; only its status does, and that moves the stamp."""
    def load():
        latest = select(FormDefinition.code, func.max(FormDefinition.version).label("version")).where(
            FormDefinition.status == "published")
        if kind is not None:
            latest = latest.where(FormDefinition.kind == kind)
        latest = latest.group_by(FormDefinition.code).subquery()
        return session.execute(
            select(FormDefinition).join(latest, (FormDefinition.code == latest.c.code)
                                        & (FormDefinition.version == latest.c.version))
            .order_by(FormDefinition.code)).scalars().all()

    return stamp.cached_instances(session, ("published", kind), load)


def codes_by_family(session) -> dict[str, list[str]]:
    """The published codes of each family of forms (the banner's badges), kept like `published`
    but as plain values: merging every published definition into the session to read its code
    was a third of the banner."""
    def load():
        found: dict[str, list[str]] = {}
        for definition in published(session):
            found.setdefault(definition.family, []).append(definition.code)
        return found

    return stamp.cached(session, ("published_codes",), load)


def get(session, code: str, version: int | None = None) -> FormDefinition | None:
    """A version (never a draft through this door), or the latest published one."""
    query = select(FormDefinition).where(FormDefinition.code == code, FormDefinition.status != "draft")
    if version is None:
        query = query.where(FormDefinition.status == "published")
    else:
        query = query.where(FormDefinition.version == version)
    return session.execute(query.order_by(FormDefinition.version.desc())).scalars().first()


def draft_of(session, code: str) -> FormDefinition | None:
    return next((v for v in versions(session, code) if v.status == "draft"), None)


def compute(session, code: str, answers: dict, version: int | str | None = None):
    """Results for `answers` with a published version, or with the draft (`version="draft"`)."""
    found = draft_of(session, code) if version == "draft" else get(session, code, version)
    if found is None:
        return None
    result = evaluate(found.data, answers)
    result.errors.update(list_errors(session, found.data, result.answers))
    return result


def file_errors(data: dict, answers: dict, usager_id: int, allowed: set) -> dict:
    """A file answer must name a file of this usager's folder, sent with this very save or kept
    from the record it continues (`allowed`): naming another evaluation's file would give it
    that evaluation's readers instead of its own."""
    from flask import current_app

    from . import attachments

    data_dir = current_app.config["SILLAGE_DATA_DIR"]
    errors = {}
    for f, _parts in all_fields(data):
        value = answers.get(f["code"]) if f["type"] == "file" else None
        if value is None:
            continue
        if attachments.path_of(data_dir, usager_id, value) is None:
            errors[f["code"]] = _("fichier introuvable pour cet usager")
        elif value not in allowed:
            errors[f["code"]] = _("ce fichier appartient à une autre saisie : envoyez-le de nouveau")
    return errors


def _kept_files(session, found, usager_id: int, draft, corrects_id) -> set:
    """File references a save may keep: those of the draft it resumes, of the evaluation it
    corrects, or of the section's current values (read unfiltered, for this usager and form)."""
    from . import attachments

    table = Evaluation.__table__
    sources = [draft.answers] if draft is not None else []
    query = select(table.c.answers).where(table.c.usager_id == usager_id, table.c.form_code == found.code)
    if corrects_id:
        sources.extend(session.connection().execute(query.where(table.c.id == corrects_id)).scalars())
    elif found.kind == "dossier_section" and draft is None:
        sources.extend(session.connection().execute(query.order_by(table.c.id.desc()).limit(1)).scalars())
    return set().union(*(attachments.references_in(answers or {}) for answers in sources))


def list_values(session, name: str) -> list:
    """The active values (code, label) of a « liste de valeurs » of the référentiels console, in
    order. Pages read them (the dossier's transmission targets): kept per process until the
    security stamp moves (a change of a value moves it, security/stamp.py)."""
    return stamp.cached(session, ("list_values", name), lambda: session.execute(
        select(ValeurListe.code, ValeurListe.label).where(ValeurListe.liste == name, ValeurListe.active.is_(True))
        .order_by(ValeurListe.position, ValeurListe.label)).all())


def list_errors(session, data: dict, answers: dict) -> dict:
    """Answers of list_choice fields that are not an active code of their list (the engine
    knows no database: the lists live in the référentiels)."""
    errors = {}
    for field, _parts in all_fields(data):
        value = answers.get(field["code"])
        if field["type"] != "list_choice" or value in (None, ""):
            continue
        if str(value) not in {v.code for v in list_values(session, field["list"])}:
            errors[field["code"]] = _("valeur inconnue de la liste « %(l)s »", l=field["list"])
    return errors


def places_of(session, usager_id) -> set[tuple]:
    """(category code, FINESS) of each établissement where the usager is admitted now: what
    `applies_to` is matched against."""
    return set(session.execute(
        select(CategorieEtablissement.code, Etablissement.finess).select_from(Admission)
        .join(Etablissement, Admission.etablissement_id == Etablissement.id)
        .join(CategorieEtablissement, Etablissement.categorie_id == CategorieEtablissement.id)
        .where(Admission.usager_id == usager_id, Admission.date_sortie.is_(None), Admission.archived_at.is_(None))
    ).tuples())


def place(etablissement) -> tuple:
    return (etablissement.categorie.code if etablissement.categorie else None, etablissement.finess)


def sensitivity_of(data: dict) -> str:
    """A definition's shared-secret category (administratif when it names none)."""
    return data.get("sensitivity") or "administratif"


def save_evaluation(session, *, usager, code, version, answers, status, evaluated_on=None,
                    corrects_id=None, user_id=None, draft: Evaluation | None = None,
                    expected_version=None, new_files=()) -> Evaluation:
    """Store an evaluation. A draft keeps the answers as typed (nothing is lost); validating
    requires a complete, valid set and freezes the results with the algorithm versions.
    `draft`: a saved draft resumed — updated in place (with its own form version, and the
    record version the page was opened with: a concurrent save is refused, not overwritten).
    `new_files`: references of the files stored for this save (others must be kept ones)."""
    errors = {}
    if draft is not None:
        from .concurrency import check_version

        if draft.status != "draft" or draft.usager_id != usager.id or draft.form_code != code:
            raise ValidationFailed({"evaluation": _("Ce brouillon n'existe plus ou a déjà été validé.")})
        check_version(session, draft, expected_version)
        version, corrects_id = draft.form_version, draft.corrects_id
    if status not in ("draft", "validated"):
        errors["status"] = _("« draft » ou « validated ».")
    if not isinstance(answers, dict):
        errors["answers"] = _("Un objet {code: valeur} est attendu.")
    found = get(session, code, version) if isinstance(code, str) else None
    if found is None:
        errors["form" if get(session, code) is None else "version"] = _("Formulaire ou version inconnus.")
    if errors:
        raise ValidationFailed(errors)
    from ..security.scope import current_scope  # the shared secret (None: the system, e.g. CLI)

    scope = current_scope()
    if scope is not None and not scope.writes(sensitivity_of(found.data)):
        raise ValidationFailed({"form": _("Votre rôle n'écrit pas dans la catégorie « %(c)s » de ce formulaire.",
                                          c=sensitivity_of(found.data))})
    if not applies(found, places_of(session, usager.id)):
        raise ValidationFailed({"form": _("Ce formulaire ne s'applique pas aux établissements de l'usager.")})
    withheld = withheld_fields(found.data, scope, write=True)
    if withheld & set(answers):
        raise ValidationFailed({code: _("Votre rôle n'écrit pas dans la catégorie de ce champ.")
                                for code in sorted(withheld & set(answers))})
    if withheld and corrects_id:  # a correction keeps what its author may not see (read unfiltered)
        table = Evaluation.__table__
        kept = session.connection().execute(select(table.c.answers).where(
            table.c.id == corrects_id, table.c.usager_id == usager.id, table.c.form_code == found.code)).scalar() or {}
        answers = {**answers, **{code: kept[code] for code in withheld if code in kept}}
    result = evaluate(found.data, answers)
    result.errors.update(list_errors(session, found.data, result.answers))
    allowed = set(new_files) | _kept_files(session, found, usager.id, draft, corrects_id)
    result.errors.update(file_errors(found.data, result.answers, usager.id, allowed))
    if status == "validated" and result.errors:
        raise ValidationFailed(result.errors)
    evaluation = draft or Evaluation(usager_id=usager.id, definition_id=found.id, form_code=found.code,
                                     form_version=found.version, sensitivity=sensitivity_of(found.data),
                                     corrects_id=corrects_id)
    evaluation.status, evaluation.evaluated_on = status, evaluated_on or clock.today()
    evaluation.answers = result.answers if status == "validated" else answers
    evaluation.computed, evaluation.algorithm_versions = result.computed, result.algorithm_versions
    if status == "validated":
        evaluation.validated_at = utcnow()
        evaluation.validated_by_id = user_id
        indexed = {f["code"] for f, _parts in all_fields(found.data) if f.get("indexed")}
        own = definitions.answer_categories(found.data)
        # a correction's results stand at the date of the evaluation it corrects (a GIR put right
        # changes the GMP from then on, not from the day of the correction)
        results_on = (session.connection().execute(select(Evaluation.__table__.c.evaluated_on).where(
            Evaluation.__table__.c.id == corrects_id)).scalar() if corrects_id else None) or evaluation.evaluated_on
        for key, value in result.computed.items():
            if key in indexed:
                number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
                evaluation.results.append(EvaluationResult(
                    usager_id=usager.id, form_code=found.code, key=key, evaluated_on=results_on,
                    value_num=number, value_text=None if number is not None else str(value)[:200],
                    sensitivity=category_key(own[key]) if own.get(key) else None))
    session.add(evaluation)
    session.commit()
    return evaluation


def withheld_fields(data: dict, scope, write: bool = False) -> set[str]:
    """Codes of the fields whose own category the user may not read (or write): absent from
    their pages and refused in what they send."""
    if scope is None:
        return set()
    allowed = scope.writes if write else scope.reads
    return {code for code, categories in definitions.answer_categories(data).items()
            if not all(allowed(c) for c in categories)}


def starting_answers(session, data: dict, usager) -> dict:
    """What a new form starts with: each field's `default`, then its `prefill` for this usager —
    `today`, `usager.age`, `usager.etablissement`, `usager.service`, or `<form>.<field>`, the
    latest validated value of a field of another form (the last GIR). Read through the ORM: the
    scope and the shared secret apply (a value the user may not read is not offered); a value
    the field would refuse is left out."""
    from ..domain.forms.engine import _coerce

    answers = definitions.defaults(data)
    wanted = [(f, f["prefill"]) for f, _parts in all_fields(data) if f.get("prefill")]
    if not wanted:
        return answers
    admission = next((a for a in sorted(usager.admissions, key=lambda a: a.date_entree, reverse=True)
                      if a.date_sortie is None and a.archived_at is None), None)
    today = clock.today()
    fixed = {"today": today.isoformat(),
             "usager.age": today.year - usager.date_naissance.year - (
                 (today.month, today.day) < (usager.date_naissance.month, usager.date_naissance.day)),
             "usager.etablissement": admission.etablissement.name if admission else None,
             "usager.service": admission.service.name if admission and admission.service else None}
    for field, source in wanted:
        value = fixed[source] if source in fixed else _latest_value(session, usager.id, *source.split(".", 1))
        if value in (None, "", []):
            continue
        try:
            answers[field["code"]] = _coerce(field, value)
        except ValueError:
            continue
    return answers


def _latest_value(session, usager_id: int, form_code: str, field_code: str):
    latest = session.execute(select(Evaluation).where(
        Evaluation.usager_id == usager_id, Evaluation.form_code == form_code, Evaluation.status == "validated",
        Evaluation.archived_at.is_(None)).order_by(Evaluation.evaluated_on.desc(), Evaluation.id.desc())
        .limit(1)).scalar()
    if latest is None:
        return None
    return (latest.answers or {}).get(field_code, (latest.computed or {}).get(field_code))


_EVALUATIONS_OF = constant(select(Evaluation).where(Evaluation.usager_id == bindparam("usager_id"),
                                                    Evaluation.archived_at.is_(None))
                           .order_by(Evaluation.evaluated_on.desc(), Evaluation.id.desc()))


def evaluations_of(session, usager_id) -> list[Evaluation]:
    """Evaluations and dossier-section saves of an usager, newest first, each with its
    definition: a published one from the per-process copies, an older version loaded once.
    (Joining the definition parsed its whole data, up to tens of kB of JSON, for every row.)"""
    evaluations = list(session.execute(_EVALUATIONS_OF, {"usager_id": usager_id}).scalars())
    current = {d.id: d for d in published(session)} if evaluations else {}
    for evaluation in evaluations:
        if evaluation.definition_id in current:
            set_committed_value(evaluation, "definition", current[evaluation.definition_id])
    return evaluations


def applies(definition: FormDefinition, places: set[tuple]) -> bool:
    """Is the form offered in one of these établissements (category code, FINESS)? Both lists of
    `applies_to` must match the same établissement: a copy made for one IME is not offered at
    the EHPAD, nor at another IME."""
    wanted = definition.data.get("applies_to") or {}
    categories, finess = wanted.get("categories"), wanted.get("etablissements")
    return any((not categories or category in categories) and (not finess or number in finess)
               for category, number in places)


def offered_at(session, etablissement, kind: str | None = None) -> list[FormDefinition]:
    return [d for d in published(session, kind) if applies(d, {place(etablissement)})]


def dossier_sections(session, usager_id, saved: list[Evaluation], places: set[tuple] | None = None) -> list[dict]:
    """The dossier sections of an usager: published definitions of kind dossier_section that
    apply to their établissements and that the user reads; each with its saves, newest first
    (the first is the current value, the others its history)."""
    from ..security.scope import current_scope

    scope = current_scope()
    places = places_of(session, usager_id) if places is None else places
    sections = []
    for definition in published(session, "dossier_section"):
        sensitivity = sensitivity_of(definition.data)
        if not applies(definition, places):
            continue
        if scope is not None and not scope.reads(sensitivity, usager_id):
            continue
        history = [e for e in saved if e.form_code == definition.code and e.status == "validated"]
        sections.append({"definition": definition, "history": history,
                         "writable": scope is None or scope.writes(sensitivity)})
    return sections


# ---- lifecycle: draft → published → retired ----------------------------------------------

def versions(session, code) -> list[FormDefinition]:
    return list(session.execute(select(FormDefinition).where(FormDefinition.code == code)
                                .order_by(FormDefinition.version)).scalars())


def _check_draft(session, data, lines=None) -> None:
    from ..domain.forms.definition import DefinitionError, InvalidDefinition
    from ..domain.forms.diff import type_changes

    published_data = [v.data for v in versions(session, data["code"]) if v.status != "draft"]
    changed = type_changes(published_data, data)
    if changed:
        raise InvalidDefinition([DefinitionError("", None, _("le type du champ « %(c)s » a été publié autrement ; "
                                                              "un autre type demande un nouveau champ", c=code))
                                 for code in changed])
    lists = set(session.execute(select(ValeurListe.liste).distinct()).scalars())
    unknown = [(field, parts) for field, parts in all_fields(data)
               if field["type"] == "list_choice" and field.get("list") not in lists]
    if unknown:  # the référentiels console creates lists; a form cannot name one that is not there
        raise InvalidDefinition([definitions.error_at(
            parts + ("list",), lines, _("liste de valeurs « %(l)s » inconnue (listes existantes : %(k)s)",
                                        l=field.get("list"), k=", ".join(sorted(lists)) or "—"))
            for field, parts in unknown])


def save_draft(session, text: str, origin: str | None = None) -> FormDefinition:
    """Create or replace the draft of a code from YAML text. The draft takes the next version
    number; raises InvalidDefinition (path and line of every error) and writes nothing then."""
    data, lines = definitions.parse_yaml(text)
    existing = versions(session, data.get("code")) if isinstance(data.get("code"), str) else []
    draft = next((v for v in existing if v.status == "draft"), None)
    next_version = draft.version if draft else (max((v.version for v in existing), default=0) + 1)
    if isinstance(data.get("version"), int) and data["version"] != next_version:
        # the top-level key only (a description may well mention a version)
        text = re.sub(r"(?m)^version:[ \t]*\d+[ \t]*$", f"version: {next_version}", text, count=1)
        data, lines = definitions.parse_yaml(text)
    if variants.is_variant(data):
        data = _resolved(session, data, lines)
    else:
        errors = definitions.check(data, lines)
        if errors:
            raise definitions.InvalidDefinition(errors)
    _check_draft(session, data, lines)
    family = _family(session, data, origin or (draft.origin if draft else None))
    if draft is None:
        draft = FormDefinition(code=data["code"], version=next_version, status="draft", origin=origin)
        session.add(draft)
    draft.kind, draft.title, draft.source_text, draft.data = data["kind"], data["title"], text, data
    if origin:
        draft.origin = origin
    draft.family = family
    session.commit()
    return draft


def _resolved(session, data: dict, lines: dict | None = None) -> dict:
    """A variant's overlay applied to its base's published version (InvalidDefinition otherwise)."""
    base = get(session, data.get("variant_of")) if isinstance(data.get("variant_of"), str) else None
    problem = None
    if base is None:
        problem = _("formulaire de base « %(c)s » inconnu ou non publié", c=data.get("variant_of"))
    elif variants.is_variant(base.data):
        problem = _("« %(c)s » est lui-même une variante : une variante dérive d'un formulaire de base", c=base.code)
    elif base.code == data.get("code"):
        problem = _("une variante porte un autre code que sa base")
    if problem:
        raise definitions.InvalidDefinition([definitions.error_at(("variant_of",), lines, problem)])
    resolved, errors = variants.resolve(base.data, data, lines)
    if errors:
        raise definitions.InvalidDefinition(errors)
    return resolved


def _family(session, data: dict, origin: str | None) -> str:
    """The base of a variant, the source of a clone ("<code> v<n>"), or the form itself; a code
    keeps the family of its first version."""
    match = re.fullmatch(r"([a-z][a-z0-9_]*) v\d+", origin or "")
    for code in (data["code"], data.get("variant_of"), match and match.group(1)):
        found = code and session.execute(select(FormDefinition.family).where(FormDefinition.code == code)).scalars().first()
        if found:
            return found
    return data["code"]


def family_codes(family: str):
    """The codes of a family, as a subquery: indicators count the base and its variants and clones."""
    return select(FormDefinition.code).where(FormDefinition.family == family).distinct()


def _variants_of(session, base_code: str) -> list[FormDefinition]:
    """The latest version of each variant of `base_code` (drafts included)."""
    latest = {}
    for definition in session.execute(select(FormDefinition).where(
            FormDefinition.family == base_code, FormDefinition.code != base_code)
            .order_by(FormDefinition.version)).scalars():
        latest[definition.code] = definition
    return [d for d in latest.values() if _base_of(d) == base_code]


def _base_of(definition: FormDefinition) -> str | None:
    return (definition.data or {}).get("variant_of")


def follow_base(session, base_code: str) -> None:
    """After the base publishes a version: each variant is resolved again. A published variant that
    resolves becomes a new published version; a draft is resolved in place (it is published later);
    one that conflicts keeps its last good resolution, and its conflicts are returned (and listed
    by `variant_conflicts` until fixed). Nothing is committed here: the caller's transaction."""
    for variant in _variants_of(session, base_code):
        overlay, lines = definitions.parse_yaml(variant.source_text)
        try:
            resolved = _resolved(session, overlay, lines)
        except definitions.InvalidDefinition:
            continue  # listed by variant_conflicts until the quality officer fixes the overlay
        if variant.status == "draft":
            variant.data = resolved
            continue
        if resolved.get("base_version") == (variant.data or {}).get("base_version"):
            continue
        resolved["version"] = variant.version + 1
        variant.status = "retired"
        session.add(FormDefinition(code=variant.code, version=variant.version + 1, status="published",
                                   kind=resolved["kind"], title=resolved["title"], source_text=variant.source_text,
                                   data=resolved, origin=f"{base_code} v{resolved['base_version']}",
                                   published_at=utcnow(), family=variant.family))


def variant_conflicts(session, base: str | None = None) -> dict[str, list[str]]:
    """{variant code: problems} for the variants (of `base`, or all) left on an older version of
    their base."""
    conflicts = {}
    for definition in published(session):
        base_code = _base_of(definition)
        if not base_code or base not in (None, base_code):
            continue
        current = get(session, base_code)
        if current is not None and current.version != definition.data.get("base_version"):
            overlay, lines = definitions.parse_yaml(definition.source_text)
            try:
                _resolved(session, overlay, lines)
            except definitions.InvalidDefinition as exc:
                conflicts[definition.code] = [str(e) for e in exc.errors]
    return conflicts


def import_xlsform(session, content: bytes, code: str) -> tuple[FormDefinition, list[str]]:
    """An XLSForm workbook as the draft of `code`, and what was not taken from it (in French).
    Raises xlsform.XlsFormError for an unreadable file, InvalidDefinition for what the normal check
    of a draft refuses; nothing is written then."""
    from . import xlsform

    if not isinstance(code, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", code):
        raise xlsform.XlsFormError(_("Code du formulaire attendu : minuscules, chiffres et _, commençant par une "
                                     "lettre (ex. : suivi_sommeil)."))
    data, warnings = xlsform.convert(content, code)
    return save_draft(session, definitions.dump(data), origin="XLSForm"), warnings


def new_version(session, code: str) -> FormDefinition:
    """A draft copied from the latest published version (the published one never changes)."""
    current = get(session, code)
    if current is None:
        raise ValidationFailed({"form": _("Formulaire ou version inconnus.")})
    return save_draft(session, current.source_text, origin=current.origin)


def clone(session, code: str, new_code: str, etablissements: list[str] | None = None) -> FormDefinition:
    """Adapt a definition (shipped or local) under a new code; the clone records its origin."""
    current = get(session, code)
    if current is None:
        raise ValidationFailed({"form": _("Formulaire ou version inconnus.")})
    origin = f"{current.code} v{current.version}"
    data = {}
    # From the text as written: JSONB does not keep the order of keys, the YAML does.
    for key, value in definitions.parse_yaml(current.source_text)[0].items():  # header first, sections last
        if key == "sections":
            data["origin"] = origin
        if key != "origin":
            data[key] = value
    data.update(code=new_code, version=1)
    if etablissements:
        data["applies_to"] = {**(data.get("applies_to") or {}), "etablissements": list(etablissements)}
    return save_draft(session, definitions.dump(data), origin=origin)


IMPACT_SCAN = 5000  # the most recent submissions examined for answers a new constraint refuses


def publish_impact(session, draft: FormDefinition) -> dict:
    """What publishing `draft` changes for what exists, counted over every submission of the form
    whatever its établissement or category (numbers only, never a value): submissions holding a
    field or an option the draft removes, open drafts on older versions (they stay on theirs), and
    validated answers that a tightened constraint would now refuse. Empty: nothing to confirm."""
    from ..domain.forms.diff import carry_over

    table = Evaluation.__table__
    rows = session.connection().execute(
        select(table.c.form_version, table.c.status, table.c.answers)
        .where(table.c.form_code == draft.code, table.c.archived_at.is_(None))
        .order_by(table.c.id.desc()).limit(IMPACT_SCAN)).all()
    sources = {v.version: v.data for v in versions(session, draft.code)}
    removed, options, refused, drafts = {}, {}, {}, {}
    for version, status, answers in rows:
        if status == "draft" and version != draft.version:
            drafts[version] = drafts.get(version, 0) + 1
        kept, dropped = carry_over(answers or {}, sources.get(version, draft.data), draft.data)
        for code, value in dropped.items():
            bucket = options if code in kept or _still_a_field(draft.data, code) else removed
            bucket[code] = bucket.get(code, 0) + 1
        if status == "validated" and kept:
            for code, message in evaluate(draft.data, kept).errors.items():
                if code.split("[", 1)[0] in kept:  # a refused answer, not a missing one
                    refused.setdefault(code.split("[", 1)[0], {"n": 0, "message": message})["n"] += 1
    impact = {"champs_retires": removed, "options_retirees": options,
              "brouillons_anciennes_versions": {str(v): n for v, n in sorted(drafts.items())},
              "reponses_refusees": refused}
    return {key: value for key, value in impact.items() if value}


def draft_warnings(session, draft: FormDefinition) -> list[str]:
    """What the draft drops from the published version (kept by past submissions, not offered)."""
    from ..domain.forms.diff import diff

    current = get(session, draft.code)
    if current is None:
        return []
    changes = diff(current.data, draft.data)
    warnings = [_("champ retiré : %(c)s (les saisies passées le gardent)", c=c) for c in changes["removed"]]
    for code, fields in changes["changed"].items():
        if "options" in fields:
            before = {str(o["code"]) for o in fields["options"][0] or []}
            after = {str(o["code"]) for o in fields["options"][1] or []}
            if before - after:
                warnings.append(_("options retirées de %(c)s : %(o)s", c=code, o=", ".join(sorted(before - after))))
    return warnings


def _still_a_field(data: dict, code: str) -> bool:
    from ..domain.forms.diff import renames

    return code in {f["code"] for f, _parts in all_fields(data)} or code in renames(data)


def restore_version(session, code: str, version: int) -> FormDefinition:
    """Roll back: an earlier version's text becomes the draft of a new version (published ones
    never change). Refused while another draft exists: it would be replaced silently."""
    old = get(session, code, version)
    if old is None:
        raise ValidationFailed({"version": _("Formulaire ou version inconnus.")})
    if any(v.status == "draft" for v in versions(session, code)):
        raise ValidationFailed({"version": _("Un brouillon existe déjà : publiez-le ou supprimez-le d'abord.")})
    return save_draft(session, old.source_text, origin=f"{code} v{version}")


def publish(session, draft: FormDefinition) -> FormDefinition:
    """The draft becomes the version offered for new entries; the previous one is retired
    (its submissions keep rendering with it)."""
    if draft.status != "draft":
        raise ValidationFailed({"status": _("Seul un brouillon se publie.")})
    data, lines = definitions.parse_yaml(draft.source_text)  # checked again: what is published is valid
    if variants.is_variant(data):  # against the base as it is now
        draft.data = _resolved(session, data, lines)
    else:
        definitions.load(draft.source_text)
    for version in versions(session, draft.code):
        if version.status == "published":
            version.status = "retired"
    draft.status = "published"
    draft.published_at = utcnow()
    session.flush()
    follow_base(session, draft.code)
    session.commit()
    return draft
