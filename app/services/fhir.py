"""FHIR R4 for the forms engine: a published definition as a `Questionnaire`, an evaluation as a
`QuestionnaireResponse` — so that a definition and its answers leave Sillage in the format the ANS
(TDDUI) and other DUIs read.

Both are built as dicts and validated by fhir.resources before they leave: its `R4B` models (the
package's default is R5; R4B keeps R4's Questionnaire and QuestionnaireResponse, with which it is
wire-compatible). Nothing is read from the database here but the référentiel lists a field names:
the caller passes objects it loaded through the scope and the shared secret (an answer the user
may not read is already absent from the evaluation).
"""
from __future__ import annotations

import ast
import datetime as dt

from sqlalchemy import select

from ..domain.forms import expressions
from ..domain.forms.definition import all_fields, value_kinds
from ..models import ValeurListe

LANGUAGE = "text/x-sillage-expression"  # a show_if or an expression that enableWhen cannot say
EXT = {
    "calculated": "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression",
    "enable_when": "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression",
    "item_control": "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl",
    "min": "http://hl7.org/fhir/StructureDefinition/minValue",
    "max": "http://hl7.org/fhir/StructureDefinition/maxValue",
    "min_length": "http://hl7.org/fhir/StructureDefinition/minLength",
    "max_occurs": "http://hl7.org/fhir/StructureDefinition/questionnaire-maxOccurs",
}
TYPES = {"text": "string", "long_text": "text", "integer": "integer", "decimal": "decimal", "date": "date",
         "datetime": "dateTime", "yes_no": "boolean", "single_choice": "choice", "ordinal": "choice",
         "multiple_choice": "choice", "list_choice": "choice", "nomenclature": "choice", "note": "display",
         "file": "attachment", "group": "group", "matrix": "group"}
COMPUTED_TYPES = {expressions.NUMBER: "decimal", expressions.BOOL: "boolean", expressions.TEXT: "string",
                  expressions.DATE: "date"}
STATUS = {"published": "active", "retired": "retired", "draft": "draft"}
OPERATORS = {ast.Eq: "=", ast.NotEq: "!=", ast.Gt: ">", ast.Lt: "<", ast.GtE: ">=", ast.LtE: "<="}


def canonical(base_url: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/api/v1/forms/{code}"


# ---- Questionnaire ---------------------------------------------------------------------------

def questionnaire(session, definition, base_url: str) -> dict:
    """The definition version as a validated FHIR R4 Questionnaire (JSON-ready dict)."""
    data = definition.data
    fields = {f["code"]: f for f, _parts in all_fields(data)}
    builder = _Items(session, fields, base_url, value_kinds(data, fields))
    resource = {
        "resourceType": "Questionnaire", "id": definition.code.replace("_", "-"),
        "url": canonical(base_url, definition.code), "version": str(definition.version),
        "name": _name(definition.code), "title": data["title"], "status": STATUS.get(definition.status, "unknown"),
        "subjectType": ["Patient"], "item": [builder.section(s) for s in data["sections"]],
    }
    if definition.published_at:
        resource["date"] = _instant(definition.published_at)
    if data.get("description"):
        resource["description"] = data["description"]
    from fhir.resources.R4B.questionnaire import Questionnaire  # (0.2 s to import: when used, issue 20)

    return _valid(Questionnaire, resource)


class _Items:
    def __init__(self, session, fields, base_url, kinds):
        self.session, self.fields, self.base_url, self.kinds = session, fields, base_url, kinds

    def section(self, section) -> dict:
        item = {"linkId": section["code"], "text": section["title"], "type": "group",
                "item": [self.item(f) for f in section["items"]]}
        self._conditions(item, section.get("show_if"))
        return item

    def item(self, field) -> dict:
        kind = field["type"]
        item = {"linkId": field["code"], "type": TYPES.get(kind) or COMPUTED_TYPES.get(self.kinds.get(field["code"]),
                                                                                      "string")}
        text = field.get("text") if kind == "note" else field.get("label")
        if text:
            item["text"] = text
        if field.get("interop"):
            item["code"] = [_coding(field["interop"])]
        if field.get("required") is True:
            item["required"] = True
        if kind == "multiple_choice" or (kind == "group" and field.get("repeat")):
            item["repeats"] = True
        if kind == "group" and (field.get("repeat") or {}).get("max"):
            item.setdefault("extension", []).append({"url": EXT["max_occurs"], "valueInteger": field["repeat"]["max"]})
        if kind in ("single_choice", "ordinal", "multiple_choice"):
            item["answerOption"] = [{"valueCoding": option_coding(o)} for o in field.get("options") or []]
        elif kind == "list_choice":
            item["answerOption"] = [{"valueCoding": {"code": v.code, "display": v.label}} for v in self._list(field)]
        elif kind == "nomenclature":
            item["answerValueSet"] = f"{self.base_url.rstrip('/')}/api/v1/nomenclatures/{field['nomenclature']}"
        elif kind == "group":
            item["item"] = [self.item(f) for f in field["items"]]
        elif kind == "matrix":
            item["item"] = [_matrix_row(field, row) for row in field.get("rows") or []]
        elif kind == "computed":
            item["readOnly"] = True
            if field.get("expression"):
                item["extension"] = [{"url": EXT["calculated"], "valueExpression": {
                    "language": LANGUAGE, "expression": field["expression"]}}]
        for key, url in (("min", "min"), ("max", "max")):
            if isinstance(field.get(key), (int, float)) and kind in ("integer", "decimal"):
                value_key = "valueInteger" if kind == "integer" else "valueDecimal"
                item.setdefault("extension", []).append({"url": EXT[url], value_key: field[key]})
        if field.get("help"):
            item.setdefault("item", []).append({
                "linkId": f"{field['code']}-aide", "type": "display", "text": field["help"],
                "extension": [{"url": EXT["item_control"], "valueCodeableConcept": {"coding": [{
                    "system": "http://hl7.org/fhir/questionnaire-item-control", "code": "help"}]}}]})
        self._conditions(item, field.get("show_if"))
        return item

    def _list(self, field):
        return self.session.execute(select(ValeurListe).where(
            ValeurListe.liste == field.get("list"), ValeurListe.active.is_(True))
            .order_by(ValeurListe.position, ValeurListe.label)).scalars().all()

    def _conditions(self, item, source):
        """show_if as enableWhen when it is a comparison (or an and/or of them) FHIR can say;
        otherwise kept whole as an SDC enableWhenExpression, never dropped."""
        if not source:
            return
        try:
            tree = expressions.parse(source).body
        except expressions.ExpressionError:
            tree = None
        parts, behavior = ([tree], None) if not isinstance(tree, ast.BoolOp) else (
            tree.values, "all" if isinstance(tree.op, ast.And) else "any")
        conditions = [self._condition(p) for p in parts] if tree is not None else [None]
        if all(conditions):
            item["enableWhen"] = conditions
            if behavior:
                item["enableBehavior"] = behavior
        else:
            item.setdefault("extension", []).append({"url": EXT["enable_when"], "valueExpression": {
                "language": LANGUAGE, "expression": source}})

    def _condition(self, node) -> dict | None:
        if isinstance(node, ast.Name) and self._kind(node.id) == "yes_no":
            return {"question": node.id, "operator": "=", "answerBoolean": True}
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not) and isinstance(node.operand, ast.Name) \
                and self._kind(node.operand.id) == "yes_no":
            return {"question": node.operand.id, "operator": "=", "answerBoolean": False}
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1):
            return None
        left, op, right = node.left, type(node.ops[0]), node.comparators[0]
        if op is ast.In and isinstance(left, ast.Constant) and isinstance(right, ast.Name):  # "A" in x
            left, op, right = right, ast.Eq, left
        if not (isinstance(left, ast.Name) and isinstance(right, ast.Constant) and op in OPERATORS):
            return None
        field = self.fields.get(left.id)
        answer = _answer_key(field, right.value) if field else None
        if answer is None:
            return None
        return {"question": left.id, "operator": OPERATORS[op], answer[0]: answer[1]}

    def _kind(self, code):
        return (self.fields.get(code) or {}).get("type")


def _answer_key(field, value):
    kind = field["type"]
    if kind == "yes_no" and isinstance(value, bool):
        return "answerBoolean", value
    if kind in ("single_choice", "ordinal", "multiple_choice"):
        option = next((o for o in field.get("options") or [] if str(o["code"]) == str(value)), None)
        return ("answerCoding", option_coding(option)) if option else None
    if kind in ("list_choice", "nomenclature") and isinstance(value, str):
        return "answerCoding", {"code": value}
    if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return "answerInteger", value
    if kind == "decimal" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return "answerDecimal", value
    if kind in ("text", "long_text") and isinstance(value, str):
        return "answerString", value
    return None


def _matrix_row(field, row) -> dict:
    item = {"linkId": f"{field['code']}.{row['code']}", "text": row["label"], "type": "choice",
            "answerOption": [{"valueCoding": option_coding(o)} for o in field.get("options") or []]}
    if row.get("interop"):
        item["code"] = [_coding(row["interop"])]
    return item


def option_coding(option) -> dict:
    """An option as a Coding: its interoperability code when it has one, else Sillage's code."""
    if option.get("interop"):
        return {**_coding(option["interop"]), "display": option["label"]}
    return {"code": str(option["code"]), "display": option["label"]}


def _coding(interop) -> dict:
    return {key: interop[key] for key in ("system", "code", "display") if interop.get(key)}


def _name(code: str) -> str:
    """A computer-friendly name as FHIR wants it: starts with a capital, letters, digits, _."""
    return "".join(part.capitalize() for part in code.split("_")) or "Formulaire"


def _instant(value: dt.datetime) -> str:
    aware = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return aware.isoformat(timespec="seconds")


def _valid(model, resource: dict) -> dict:
    model.model_validate(resource)  # a failure here is a bug of this module: let it raise
    return resource


# ---- QuestionnaireResponse -------------------------------------------------------------------

def questionnaire_response(evaluation, base_url: str) -> dict:
    """The evaluation (answers and computed values as loaded for this user) as a validated
    QuestionnaireResponse of the version it was filled with."""
    data = evaluation.definition.data
    values = {**(evaluation.computed or {}), **(evaluation.answers or {})}
    resource = {
        "resourceType": "QuestionnaireResponse", "id": str(evaluation.id),
        "questionnaire": f"{canonical(base_url, evaluation.form_code)}|{evaluation.form_version}",
        "status": "completed" if evaluation.status == "validated" else "in-progress",
        "subject": {"reference": f"{base_url.rstrip('/')}/api/v1/usager/{evaluation.usager_id}", "type": "Patient"},
        "authored": _instant(evaluation.validated_at or evaluation.updated_at or evaluation.created_at),
        "item": [],
    }
    if evaluation.corrects_id:
        resource["extension"] = [{"url": "https://sillage.invalid/fhir/StructureDefinition/corrige",
                                  "valueReference": {"reference": f"QuestionnaireResponse/{evaluation.corrects_id}"}}]
    for section in data["sections"]:
        items = _answered(section["items"], values)
        if items:
            resource["item"].append({"linkId": section["code"], "text": section["title"], "item": items})
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse  # (when used, issue 20)

    return _valid(QuestionnaireResponse, resource)


def _answered(fields, values) -> list:
    items = []
    for field in fields:
        kind, code = field["type"], field["code"]
        value = values.get(code)
        if kind == "note" or value in (None, "", [], {}):
            continue
        if kind == "group" and field.get("repeat"):
            for line in value if isinstance(value, list) else []:
                children = _answered(field["items"], line if isinstance(line, dict) else {})
                if children:
                    items.append({"linkId": code, "text": field.get("label", code), "item": children})
        elif kind == "group":
            children = _answered(field["items"], values)
            if children:
                items.append({"linkId": code, "text": field.get("label", code), "item": children})
        elif kind == "matrix" and isinstance(value, dict):
            options = {str(o["code"]): o for o in field.get("options") or []}
            rows = [{"linkId": f"{code}.{row['code']}", "text": row["label"],
                     "answer": [{"valueCoding": option_coding(options[str(value[row['code']])])}]}
                    for row in field.get("rows") or [] if str(value.get(row["code"])) in options]
            if rows:
                items.append({"linkId": code, "text": field.get("label", code), "item": rows})
        else:
            answers = [a for a in (_answer(field, v) for v in (value if isinstance(value, list) else [value])) if a]
            if answers:
                items.append({"linkId": code, "text": field.get("label", code), "answer": answers})
    return items


def _answer(field, value) -> dict | None:
    kind = field["type"]
    if kind in ("single_choice", "ordinal", "multiple_choice"):
        option = next((o for o in field.get("options") or [] if str(o["code"]) == str(value)), None)
        return {"valueCoding": option_coding(option)} if option else {"valueCoding": {"code": str(value)}}
    if kind in ("list_choice", "nomenclature"):
        return {"valueCoding": {"code": str(value)}}
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if kind == "integer":
        return {"valueInteger": value} if isinstance(value, int) else None
    if isinstance(value, (int, float)):
        return {"valueDecimal": value}
    if kind == "date":
        return {"valueDate": str(value)}
    if kind == "datetime":
        return {"valueDateTime": str(value)}
    if kind == "file":
        return {"valueAttachment": {"title": str(value.get("name") if isinstance(value, dict) else value)}}
    return {"valueString": str(value)}
