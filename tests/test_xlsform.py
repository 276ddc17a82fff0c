"""XLSForm import (issue 15 §6): an ODK workbook becomes a draft; what has no equivalent is listed."""
from __future__ import annotations

import io

import openpyxl
import pytest

from app.domain.forms import definition
from app.extensions import db
from app.services import forms
from app.services.xlsform import XlsFormError, convert

from . import factories as f

SURVEY = [
    ["type", "name", "label::French (fr)", "label::English (en)", "hint", "required", "relevant", "constraint",
     "constraint_message", "calculation", "default", "appearance"],
    ["text", "Nom-Usage", "Nom d'usage", "Name", "Tel qu'il l'écrit", "yes", "", "", "", "", "", ""],
    ["integer", "age", "Âge", "Age", "", "", "", ". >= 0 and . < 130", "Âge invalide", "", "", ""],
    ["select_one yn", "fume", "Fumez-vous ?", "Smoker?", "", "", "", "", "", "", "non", ""],
    ["select_multiple sports", "sports", "Sports", "Sports", "", "", "${fume} = 'non'", "", "", "", "", ""],
    ["text", "detail", "Détail", "Detail", "", "", "selected(${sports}, 'tennis') and ${age} > 10", "", "", "",
     "", "multiline"],
    ["begin group", "famille", "Famille", "Family", "", "", "", "", "", "", "", ""],
    ["date", "naissance", "Naissance", "Birth", "", "", "", "", "", "", "", ""],
    ["begin repeat", "enfants", "Enfants", "Children", "", "", "", "", "", "", "", ""],
    ["text", "prenom", "Prénom", "First name", "", "", "", "", "", "", "", ""],
    ["end repeat", "", "", "", "", "", "", "", "", "", "", ""],
    ["end group", "", "", "", "", "", "", "", "", "", "", ""],
    ["calculate", "double", "", "", "", "", "", "", "", "${age} * 2", "", ""],
    ["geopoint", "lieu", "Lieu", "Place", "", "", "", "", "", "", "", ""],
    ["text", "quand", "Quand", "When", "", "", "format-date(today(), '%Y') = '2026'", "", "", "", "", ""],
    ["note", "fin", "Merci", "Thanks", "", "", "", "", "", "", "", ""],
]
CHOICES = [["list_name", "name", "label::French (fr)", "label::English (en)"],
           ["yn", "oui", "Oui", "Yes"], ["yn", "non", "Non", "No"],
           ["sports", "foot", "Football", "Football"], ["sports", "tennis", "Tennis", "Tennis"]]


def workbook(survey=SURVEY, choices=CHOICES, title="Habitudes de vie") -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "survey"
    for row in survey:
        sheet.append(row)
    choice_sheet = book.create_sheet("choices")
    for row in choices:
        choice_sheet.append(row)
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id"])
    settings.append([title, "habitudes"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _fields(data):
    return {field["code"]: field for field, _parts in definition.all_fields(data)}


def test_a_workbook_becomes_a_valid_definition_and_lists_what_it_leaves(app):
    with app.test_request_context("/"):
        data, warnings = convert(workbook(), "habitudes_import")
        assert definition.check(data) == []
    fields = _fields(data)
    assert data["title"] == "Habitudes de vie" and fields["nom_usage"]["label"] == "Nom d'usage"  # French labels
    assert fields["nom_usage"]["required"] is True and fields["nom_usage"]["help"] == "Tel qu'il l'écrit"
    assert fields["age"]["constraints"] == [{"expression": "age is None or (age >= 0 and age < 130)",
                                             "message": "Âge invalide"}]
    assert fields["fume"]["type"] == "single_choice" and fields["fume"]["default"] == "non"
    assert [o["label"] for o in fields["fume"]["options"]] == ["Oui", "Non"]
    assert fields["sports"]["type"] == "multiple_choice" and fields["sports"]["show_if"] == 'fume == "non"'
    assert fields["detail"]["show_if"] == '("tennis" in sports) and age > 10'
    assert fields["enfants"]["type"] == "group" and "repeat" in fields["enfants"]
    assert fields["double"] == {"code": "double", "label": "double", "type": "computed", "expression": "age * 2"}
    assert fields["fin"]["type"] == "note" and "lieu" not in fields
    assert any(s["code"] == "famille" for s in data["sections"])
    listed = " | ".join(warnings)
    assert "geopoint" in listed and "format-date" in listed and "multiline" in listed  # listed, not dropped
    assert "Nom-Usage" in listed  # renamed, and said so


def test_the_quality_officer_imports_it_as_a_draft_from_the_forms_page(app, as_user):
    quality = as_user("qualite")
    code = "xls_" + f.unique_name("").lower()
    assert "Importer un XLSForm" in quality.get("/formulaires/").data.decode()
    response = quality.post("/formulaires/importer-xlsform", data={
        "code": code, "file": (io.BytesIO(workbook()), "habitudes.xlsx")}, content_type="multipart/form-data")
    assert response.status_code == 302 and response.location.endswith(f"/formulaires/{code}/brouillon")
    page = quality.get(response.location).data.decode()
    assert "Non repris de l&#39;XLSForm" in page or "Non repris de l'XLSForm" in page
    with app.app_context():
        draft = forms.draft_of(db.session, code)
        assert draft is not None and draft.origin == "XLSForm" and "nom_usage" in draft.source_text


@pytest.mark.parametrize("content, message", [
    (b"", "vide"),
    (b"%PDF-1.4 not a workbook", "pas un classeur"),
    (b"PK\x03\x04broken zip", "pas un classeur"),
])
def test_a_bad_file_is_refused_in_french_and_nothing_is_created(app, as_user, api, content, message):
    code = "xls_" + f.unique_name("").lower()
    response = as_user("qualite").post("/formulaires/importer-xlsform", data={
        "code": code, "file": (io.BytesIO(content), "x.xlsx")}, content_type="multipart/form-data",
        follow_redirects=True)
    assert message in response.data.decode()
    answer = api("qualite").post(f"/api/v1/forms/{code}/xlsform", data={"file": (io.BytesIO(content), "x.xlsx")},
                                 content_type="multipart/form-data")
    assert answer.status_code == 422 and message in answer.json["message"]["file"][0]
    with app.app_context():
        assert forms.versions(db.session, code) == []


def test_a_workbook_without_survey_or_with_a_bad_code_is_refused(app):
    book = openpyxl.Workbook()
    book.active.title = "autre"
    out = io.BytesIO()
    book.save(out)
    with app.test_request_context("/"):
        with pytest.raises(XlsFormError, match="XLSForm illisible"):
            convert(out.getvalue(), "sans_survey")
        with pytest.raises(XlsFormError, match="Code du formulaire"):
            forms.import_xlsform(db.session, workbook(), "Mauvais Code")


def test_the_api_imports_and_only_quality_and_admin_may(app, api):
    code = "xls_" + f.unique_name("").lower()
    response = api("qualite").post(f"/api/v1/forms/{code}/xlsform", data={"file": (io.BytesIO(workbook()), "h.xlsx")},
                                   content_type="multipart/form-data")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "draft" and response.json["version"] == 1
    assert any("geopoint" in w for w in response.json["warnings"])
    refused = api("soin.tilleuls").post(f"/api/v1/forms/{code}/xlsform",
                                        data={"file": (io.BytesIO(workbook()), "h.xlsx")},
                                        content_type="multipart/form-data")
    assert refused.status_code == 403
