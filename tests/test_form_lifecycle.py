"""Definition lifecycle: drafts, publication, versions, clones, diffs, immutable field types."""
import pytest

from app.domain.forms import definition
from app.domain.forms.diff import diff
from app.extensions import db
from app.services import forms
from app.services.errors import ValidationFailed

from .test_form_definitions import MINI


def unique_code(base):
    from .factories import unique_name

    return (base + unique_name("").lower())[:60]


def test_publish_then_edit_makes_the_next_version_and_keeps_the_old(ctx):
    code = unique_code("essai")
    draft = forms.save_draft(db.session, MINI.replace("code: essai", f"code: {code}"))
    assert (draft.version, draft.status) == (1, "draft")
    assert forms.get(db.session, code) is None  # a draft is not offered
    forms.publish(db.session, draft)
    assert forms.get(db.session, code).version == 1
    second = forms.new_version(db.session, code)
    assert (second.version, second.status) == (2, "draft")
    edited = second.source_text.replace("label: Âge", "label: Âge (ans)")
    second = forms.save_draft(db.session, edited)
    assert second.version == 2 and "Âge (ans)" in second.source_text
    forms.publish(db.session, second)
    assert forms.get(db.session, code).version == 2
    assert forms.get(db.session, code, 1).status == "retired"  # still readable for old submissions
    changes = diff(forms.get(db.session, code, 1).data, forms.get(db.session, code, 2).data)
    assert changes == {"added": [], "removed": [], "changed": {"age": {"label": ["Âge", "Âge (ans)"]}}}


def test_a_published_field_cannot_change_type(ctx):
    code = unique_code("typage")
    forms.publish(db.session, forms.save_draft(db.session, MINI.replace("code: essai", f"code: {code}")))
    forms.new_version(db.session, code)
    broken = (MINI.replace("code: essai", f"code: {code}").replace("type: integer", "type: text")
              .replace("        min: 0\n        max: 130\n", ""))
    with pytest.raises(definition.InvalidDefinition) as exc:
        forms.save_draft(db.session, broken)
    assert "« age »" in str(exc.value)


def test_invalid_draft_writes_nothing(ctx):
    code = unique_code("vide")
    with pytest.raises(definition.InvalidDefinition):
        forms.save_draft(db.session, MINI.replace("code: essai", f"code: {code}").replace("type: yes_no", "type: ?"))
    assert forms.versions(db.session, code) == []


def test_clone_records_its_origin_and_can_target_one_etablissement(ctx):
    forms.load_shipped(db.session)
    code = unique_code("aggir_local")
    clone = forms.clone(db.session, "aggir", code, etablissements=["630780016"])
    assert clone.status == "draft" and clone.origin == "aggir v3"
    assert clone.data["applies_to"]["etablissements"] == ["630780016"]
    again = definition.dump(definition.load(clone.source_text))
    assert again == clone.source_text


def test_only_drafts_are_published(ctx):
    forms.load_shipped(db.session)
    with pytest.raises(ValidationFailed):
        forms.publish(db.session, forms.get(db.session, "aggir"))
