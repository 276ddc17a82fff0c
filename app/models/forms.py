"""Form definitions (versioned data) and the evaluations filled with them."""
from flask_appbuilder import Model
from sqlalchemy import (
    Column, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import relationship

from .base import ArchivableMixin, JSONType, TrackedMixin, VersionedMixin


class FormDefinition(TrackedMixin, Model):
    """One version of a definition. A published version never changes; the next one is a draft."""

    __tablename__ = "form_definition"
    __table_args__ = (UniqueConstraint("code", "version", name="uq_form_definition_version"),)
    audit_copies_values = False  # every version is kept here: the trail notes "modifié", not a copy
    id = Column(Integer, primary_key=True)
    code = Column(String(63), nullable=False, index=True)
    version = Column(Integer, nullable=False)
    status = Column(String(10), nullable=False, default="draft")  # draft, published, retired
    kind = Column(String(20), nullable=False)
    title = Column(String(200), nullable=False)
    source_text = Column(Text, nullable=False)  # the YAML, as written
    data = Column(JSONType, nullable=False)  # the checked definition
    origin = Column(String(120))  # "forms/aggir.yaml", or the code/version it was cloned from
    # The form it derives from (itself, the base of a variant, the source of a clone): indicators
    # count a family, so that a GIR entered through a structure's variant is in the GMP.
    family = Column(String(63), nullable=False, index=True,
                    default=lambda context: context.get_current_parameters()["code"])
    published_at = Column(DateTime)


class Evaluation(VersionedMixin, TrackedMixin, ArchivableMixin, Model):
    """Answers to one definition version for one usager; computed results are derived, frozen
    with the algorithm versions once validated."""

    __tablename__ = "evaluation"
    __table_args__ = (Index("ix_evaluation_usager_form", "usager_id", "form_code", "evaluated_on"),)
    id = Column(Integer, primary_key=True)
    usager_id = Column(Integer, ForeignKey("usager.id"), nullable=False)
    definition_id = Column(Integer, ForeignKey("form_definition.id"), nullable=False)
    form_code = Column(String(63), nullable=False)
    form_version = Column(Integer, nullable=False)
    # The definition's shared-secret category, copied here so the scope hook filters rows cheaply.
    sensitivity = Column(String(20), nullable=False, default="administratif", server_default="administratif")
    status = Column(String(10), nullable=False, default="draft")  # draft, validated
    evaluated_on = Column(Date, nullable=False)
    answers = Column(JSONType, nullable=False, default=dict)
    computed = Column(JSONType, nullable=False, default=dict)
    algorithm_versions = Column(JSONType, nullable=False, default=dict)
    validated_at = Column(DateTime)
    validated_by_id = Column(Integer, ForeignKey("ab_user.id"))
    # Indexed: the GMP asks, for each result, whether a validated correction replaces it.
    corrects_id = Column(Integer, ForeignKey("evaluation.id"), index=True)
    definition = relationship("FormDefinition")
    results = relationship("EvaluationResult", back_populates="evaluation", cascade="all, delete-orphan")


class EvaluationResult(Model):
    """Validated results that lists and indicators need (GIR, scores), one row each, indexed:
    nothing parses answer JSON row by row."""

    __tablename__ = "evaluation_result"
    __table_args__ = (Index("ix_evaluation_result_lookup", "form_code", "key", "usager_id", "evaluated_on"),)
    id = Column(Integer, primary_key=True)
    evaluation_id = Column(Integer, ForeignKey("evaluation.id", ondelete="CASCADE"), nullable=False, index=True)
    usager_id = Column(Integer, ForeignKey("usager.id"), nullable=False)
    form_code = Column(String(63), nullable=False)
    key = Column(String(63), nullable=False)
    evaluated_on = Column(Date, nullable=False)
    value_num = Column(Float)
    value_text = Column(String(200))
    # The key's own category when its field declares one or is computed from fields that do
    # (e.g. "soins"; several joined by "+", read only by who reads each): None = the evaluation's.
    sensitivity = Column(String(60))
    evaluation = relationship("Evaluation", back_populates="results")
